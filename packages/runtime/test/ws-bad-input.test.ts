import { randomBytes } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Encoder } from 'cbor-x'
import { defineActor } from '@troupe/runtime'
import { CloseCode } from '../src/ws/index.js'
import { FrameType, encodeFrame } from '../src/ws/frames.js'
import { RawClient, eventually, link, startNode } from './ws-helpers.js'
import type { TestNode } from './ws-helpers.js'

const Box = defineActor({
  initial: () => ({ got: [] as unknown[] }),
  handlers: {
    put(s, v: unknown) {
      s.got.push(v)
    },
    count: (s) => s.got.length,
    last: (s) => s.got[s.got.length - 1],
  },
})
type BoxP = { put(v: unknown): void; count(): number; last(): unknown }

const cbor = new Encoder({ useRecords: false, tagUint8Array: false })
const truncatedHello = () => encodeFrame(FrameType.Hello, cbor.encode([1, 'x', 'inc', randomBytes(32), 'a']).subarray(0, 20))
const garbage = () => randomBytes(512)
const hundredMiB = () => Buffer.alloc(100 * 1024 * 1024, 0x41)

const test = suite('ws bad input')

const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length

async function pair(): Promise<{ a: TestNode; b: TestNode }> {
  const a = await startNode('a', { maxPayloadBytes: 4 * 1024 * 1024 })
  const b = await startNode('b')
  link(a, b)
  a.system.spawn(Box, { name: 'box' })
  return { a, b }
}

/** The node still serves a well-behaved peer. */
async function stillServes(a: TestNode, b: TestNode): Promise<void> {
  const box = b.system.remoteRef<BoxP>('a', '/user/box')
  const before = await box.ask('count')
  box.tell('put', 'ok')
  assert.is(await box.ask('count'), before + 1)
}

/** Sends `data` on a fresh raw connection (after a valid handshake when `authenticated`) and returns how it was closed. */
async function closeCodeFor(a: TestNode, data: Uint8Array | string, authenticated: boolean): Promise<{ code: number; reason: string }> {
  const raw = await RawClient.connect(a.url)
  if (authenticated) await raw.handshake('mallory', 'a')
  await raw.send(data)
  return raw.closed
}

test('before the handshake: each bad message closes that connection with its code', async () => {
  const { a, b } = await pair()
  try {
    const cases: Array<[string, Uint8Array | string, number]> = [
      ['garbage bytes', garbage(), CloseCode.UnknownFrameType],
      ['garbage after a hello type byte', Buffer.concat([Buffer.from([FrameType.Hello]), garbage()]), CloseCode.ProtocolError],
      ['truncated CBOR hello', truncatedHello(), CloseCode.ProtocolError],
      ['a data frame before the handshake', encodeFrame(FrameType.Data, cbor.encode([1, '/user/box', 0, 'put', 1, null])), CloseCode.FrameBeforeHandshake],
      ['an accept from a client', encodeFrame(FrameType.Accept, cbor.encode([])), CloseCode.ProtocolError],
      ['a text message', 'hello?', CloseCode.UnknownFrameType],
      ['an empty message', new Uint8Array(0), CloseCode.UnknownFrameType],
      ['a hello that is a map with __proto__', encodeFrame(FrameType.Hello, cbor.encode(JSON.parse('{"__proto__": {"polluted": true}, "v": 1}'))), CloseCode.ProtocolError],
      ['a 100 KB message (over the pre-handshake limit)', encodeFrame(FrameType.Hello, Buffer.alloc(100_000)), CloseCode.MessageTooBig],
      ['a 100 MB message', hundredMiB(), CloseCode.MessageTooBig],
    ]
    for (const [what, data, code] of cases) {
      const closed = await closeCodeFor(a, data, false)
      assert.is(closed.code, code, `${what}: closed with ${closed.code} ${closed.reason}`)
    }
    assert.is(({} as Record<string, unknown>).polluted, undefined)
    // Each one was logged with its reason.
    assert.ok(a.sink.count((e) => e.event === 'connection-closed' && e.code === CloseCode.ProtocolError) >= 4)
    assert.ok(a.sink.find((e) => e.code === CloseCode.FrameBeforeHandshake && /before the handshake/.test(e.reason ?? '')))
    await stillServes(a, b)
    await eventually(() => a.transport.stats().handshaking === 0, 'no half-open connection left')
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
})

test('after the handshake: bad frames are rejected, the node keeps working, nothing is polluted', async () => {
  const { a, b } = await pair()
  const rejected: string[] = []
  a.system.events.on('inboundRejected', (r) => rejected.push(`${r.from}: ${r.reason}`))
  try {
    // Data frames with bad contents: remoting rejects them; the connection may stay.
    const raw = await RawClient.connect(a.url)
    await raw.handshake('mallory', 'a')
    await raw.send(encodeFrame(FrameType.Data, garbage()))
    await raw.send(encodeFrame(FrameType.Data, cbor.encode([1, '/user/box', 0, 'put', 'long string here']).subarray(0, 12)))
    await raw.send(encodeFrame(FrameType.Data, cbor.encode([99, 'unknown kind'])))
    const evil = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}, "x": 1}')
    await raw.send(encodeFrame(FrameType.Data, cbor.encode([1, '/user/box', 0, 'put', evil, null])))
    await eventually(() => rejected.length >= 3, 'three rejections')
    const box = b.system.remoteRef<BoxP>('a', '/user/box')
    assert.is(await box.ask('count'), 1, 'the __proto__ message itself is delivered as plain data')
    const last = (await box.ask('last')) as Record<string, unknown>
    assert.is(last.x, 1)
    assert.is(({} as Record<string, unknown>).polluted, undefined)
    assert.is((Object.prototype as Record<string, unknown>).polluted, undefined)
    assert.is(Object.getPrototypeOf(last), Object.prototype)
    raw.close()

    // Transport-level violations close that connection with a code.
    const cases: Array<[string, Uint8Array | string, number]> = [
      ['unknown frame type', Buffer.from([0x7e, 1, 2, 3]), CloseCode.UnknownFrameType],
      ['a second hello', encodeFrame(FrameType.Hello, cbor.encode([1, 'x', 'y', randomBytes(32), 'a'])), CloseCode.ProtocolError],
      ['a text message', 'text', CloseCode.UnknownFrameType],
      ['a 100 MB message', hundredMiB(), CloseCode.MessageTooBig],
    ]
    for (const [what, data, code] of cases) {
      const closed = await closeCodeFor(a, data, true)
      assert.is(closed.code, code, `${what}: closed with ${closed.code} ${closed.reason}`)
    }
    await stillServes(a, b)
    assert.is(a.transport.stats().open, 1, 'only b is connected')
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
})

test('a flood of connections that never handshake is closed after the timeout; nothing leaks', async () => {
  const a = await startNode('a', { handshakeTimeoutMs: 300, maxPendingHandshakes: 150, maxPendingPerAddress: 150 })
  const b = await startNode('b')
  link(a, b)
  a.system.spawn(Box, { name: 'box' })
  try {
    await stillServes(a, b)
    const socketsBefore = tcpHandles()
    const opened = await Promise.allSettled(Array.from({ length: 200 }, () => RawClient.connect(a.url)))
    const clients = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    const refused = opened.length - clients.length
    console.log(`    flood: ${clients.length} upgraded, ${refused} evicted before the upgrade`)
    assert.ok(a.transport.stats().handshaking <= 150, 'at most maxPendingHandshakes are pending at once')
    // The node serves b while the flood is pending.
    await stillServes(a, b)
    const codes = await Promise.all(clients.map((c) => c.closed.then((x) => x.code)))
    const evicted = codes.filter((c) => c === CloseCode.TryAgainLater).length
    assert.ok(codes.every((c) => c === CloseCode.HandshakeTimeout || c === CloseCode.TryAgainLater), `all timed out or evicted: ${[...new Set(codes)]}`)
    assert.ok(refused + evicted >= 50, 'the 50 over the bound were evicted (oldest first)')
    await eventually(() => a.transport.stats().handshaking === 0, 'no handshaking socket left')
    assert.equal(a.transport.stats().open, 1)
    assert.ok(a.sink.count((e) => e.event === 'connection-evicted') <= 8, 'evictions are logged sparingly')
    assert.is(a.transport.stats().peers, 1, 'strangers never enter the peer table')
    await stillServes(a, b)
    // Both ends of every flood socket are gone from the process (clients and server live here).
    await eventually(() => tcpHandles() === socketsBefore, `TCP handles back to ${socketsBefore} (now ${tcpHandles()})`)
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
})

test.run()
