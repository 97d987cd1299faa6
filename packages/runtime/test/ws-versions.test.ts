// Wire version ranges in the handshake: two nodes speak min(maxA, maxB) when
// that is within both ranges, and refuse each other otherwise with BadVersion
// and a typed versionMismatch event naming both ranges.
import { randomBytes } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Encoder } from 'cbor-x'
import { TroupeError, isTroupeError } from '@troupe/runtime'
import type { VersionMismatch } from '../src/transport.js'
import { CloseCode, WebSocketTransport } from '../src/ws/index.js'
import { FrameType, encodeFrame } from '../src/ws/frames.js'
import { decodeChallenge } from '../src/ws/handshake.js'
import { WIRE_VERSION, WIRE_VERSION_NEXT } from '../src/wire-version.js'
import { RawClient, SECRET, eventually, startTransport, text } from './ws-helpers.js'
import type { BareNode } from './ws-helpers.js'

const test = suite('ws version ranges')

const N = WIRE_VERSION
const NEXT = WIRE_VERSION_NEXT

function mismatches(node: BareNode): VersionMismatch[] {
  const out: VersionMismatch[] = []
  node.transport.on('versionMismatch', (m) => void out.push(m))
  return out
}

async function connected(from: BareNode, to: BareNode, what: string): Promise<void> {
  from.transport.addPeer(to.name, to.url)
  from.transport.send(to.name, text(`hello from ${from.name}`))
  await eventually(() => to.received.some((r) => r.from === from.name), what)
}

test(`[${N}, ${NEXT}] and [${N}] speak ${N}, both ways; [${N}, ${NEXT}] and [${N}, ${NEXT}] speak ${NEXT}`, async () => {
  const old = await startTransport('old')
  const next1 = await startTransport('next1', { wire: { experimental: 'next' } })
  const next2 = await startTransport('next2', { wire: { experimental: 'next' } })
  try {
    assert.equal(old.transport.versions, { min: N, max: N })
    assert.equal(next1.transport.versions, { min: N, max: NEXT })
    assert.is(old.transport.peerVersion('next1'), undefined)
    await connected(next1, old, 'new dials old')
    assert.is(next1.transport.peerVersion('old'), N)
    assert.is(old.transport.peerVersion('next1'), N)
    await connected(old, next2, 'old dials new')
    assert.is(old.transport.peerVersion('next2'), N)
    assert.is(next2.transport.peerVersion('old'), N)
    await connected(next1, next2, 'new dials new')
    assert.is(next1.transport.peerVersion('next2'), NEXT)
    assert.is(next2.transport.peerVersion('next1'), NEXT)
  } finally {
    await Promise.all([old.transport.stop(), next1.transport.stop(), next2.transport.stop()])
  }
})

test(`[${N}] and a node that requires ${NEXT} refuse each other, both ways, with BadVersion and a typed event naming both ranges`, async () => {
  const old = await startTransport('old')
  const req = await startTransport('req', { wire: { experimental: 'next', minVersion: NEXT } })
  const [fo, fr] = [mismatches(old), mismatches(req)]
  try {
    old.transport.addPeer('req', req.url)
    req.transport.addPeer('old', old.url)
    old.transport.send('req', text('x'))
    await eventually(() => fo.some((m) => m.direction === 'outbound') && fr.some((m) => m.direction === 'inbound'), 'old dials: both sides report')
    const o = fo.find((m) => m.direction === 'outbound')!
    assert.is(o.peer, 'req')
    assert.equal(o.local, { min: N, max: N })
    assert.equal(o.remote, { min: NEXT, max: NEXT })
    assert.ok(isTroupeError(o.error, 'PROTOCOL_MISMATCH'))
    assert.is(o.error.retryable, false)
    assert.match(o.error.message, new RegExp(`node 'req'.*this node speaks ${N}, the peer ${NEXT}`))
    const r = fr.find((m) => m.direction === 'inbound')!
    assert.is(r.peer, 'old')
    assert.is(r.refusedBy, 'self')
    assert.equal(r.remote, { min: N, max: N })
    assert.ok(old.sink.find((e) => e.code === CloseCode.BadVersion && /no common protocol version/.test(e.reason ?? '')))
    assert.ok(req.sink.find((e) => e.code === CloseCode.BadVersion && /no common protocol version/.test(e.reason ?? '')))

    req.transport.send('old', text('y'))
    await eventually(() => fr.some((m) => m.direction === 'outbound') && fo.some((m) => m.direction === 'inbound'), 'req dials: both sides report')
    assert.equal(fr.find((m) => m.direction === 'outbound')!.remote, { min: N, max: N })
    assert.equal(old.received, [])
    assert.equal(req.received, [])
    assert.is(old.transport.stats().open, 0)
  } finally {
    await Promise.all([old.transport.stop(), req.transport.stop()])
  }
})

test('a version-1 Hello (exact-match protocol) is answered with version 0 and this node\'s range, then BadVersion', async () => {
  const a = await startTransport('a')
  const fa = mismatches(a)
  try {
    const raw = await RawClient.connect(a.url)
    const cbor = new Encoder({ useRecords: false })
    await raw.send(encodeFrame(FrameType.Hello, cbor.encode([1, 'v1-node', 'inc', randomBytes(32), 'a'])))
    const challenge = decodeChallenge((await raw.next()).subarray(1))
    assert.is(challenge.version, 0)
    assert.equal(challenge.versions, { min: N, max: N })
    const closed = await raw.closed
    assert.is(closed.code, CloseCode.BadVersion)
    assert.match(closed.reason, new RegExp(`this node speaks ${N}, 'v1-node' speaks 1`))
    await eventually(() => fa.length > 0, 'the refusal is reported')
    assert.equal(fa[0].remote, { min: 1, max: 1 })
    assert.is(fa[0].peer, 'v1-node')
  } finally {
    await a.transport.stop()
  }
})

test('wire options are checked', () => {
  const make = (wire: unknown) => () => new WebSocketTransport({ listen: null, secret: SECRET, wire: wire as never })
  for (const bad of [{ experimental: 'later' }, { minVersion: N - 1 }, { minVersion: NEXT }, { experimental: 'next', minVersion: NEXT + 1 }, { minVersion: 2.5 }]) {
    assert.throws(make(bad), (e: unknown) => e instanceof TroupeError && e.code === 'INVALID_ARGUMENT', JSON.stringify(bad))
  }
  assert.equal(new WebSocketTransport({ listen: null, secret: SECRET, wire: { experimental: 'next', minVersion: NEXT } }).versions, { min: NEXT, max: NEXT })
})

test.run()
