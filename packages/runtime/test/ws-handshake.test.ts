import { createSecretKey, randomBytes } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Encoder } from 'cbor-x'
import { defineActor } from '@troupe/runtime'
import { CloseCode } from '../src/ws/index.js'
import { FrameType, encodeFrame } from '../src/ws/frames.js'
import { HandshakeError, PROTOCOL_VERSION, clientProof, decodeHello, encodeHello, serverProof } from '../src/ws/handshake.js'
import { chooseConnection } from '../src/ws/tie-break.js'
import { RawClient, SECRET, eventually, link, startNode, startTransport, text } from './ws-helpers.js'

const Counter = defineActor({
  initial: () => ({ n: 0, log: [] as number[] }),
  handlers: {
    add(s, by: number) {
      s.n += by
      s.log.push(by)
    },
    get: (s) => s.n,
    log: (s) => s.log,
  },
})
type CounterP = { add(n: number): void; get(): number; log(): number[] }

const test = suite('ws handshake')

test('tie-break: both sides of a pair pick the same connection', () => {
  const inc = 'i1'
  // a dialed b and b dialed a: each side sees its own dial as outbound; both keep the one a dialed.
  assert.is(chooseConnection('a', 'b', { role: 'outbound', incarnation: null }, { role: 'inbound', incarnation: inc }), 'existing')
  assert.is(chooseConnection('b', 'a', { role: 'outbound', incarnation: null }, { role: 'inbound', incarnation: inc }), 'incoming')
  assert.is(chooseConnection('a', 'b', { role: 'inbound', incarnation: inc }, { role: 'outbound', incarnation: inc }), 'incoming')
  assert.is(chooseConnection('b', 'a', { role: 'inbound', incarnation: inc }, { role: 'outbound', incarnation: inc }), 'existing')
  // the same dialer twice: it gave up on the old one
  assert.is(chooseConnection('a', 'b', { role: 'inbound', incarnation: inc }, { role: 'inbound', incarnation: inc }), 'incoming')
  // a new incarnation always wins
  assert.is(chooseConnection('a', 'b', { role: 'outbound', incarnation: 'old' }, { role: 'inbound', incarnation: 'new' }), 'incoming')
})

test('proofs: bound to the secret, the direction and both nonces', () => {
  const key = createSecretKey(Buffer.from(SECRET))
  const other = createSecretKey(Buffer.from('another-secret-of-sixteen-bytes'))
  const hello = { name: 'a', incarnation: 'x', nonce: randomBytes(32), target: 'b', versions: { min: 2, max: 3 } }
  const server = { name: 'b', incarnation: 'y', nonce: randomBytes(32), versions: { min: 2, max: 2 }, version: 2 }
  const s = serverProof(key, hello, server)
  assert.is(s.length, 32)
  assert.not.equal(s, clientProof(key, hello, server))
  assert.not.equal(s, serverProof(other, hello, server))
  assert.not.equal(s, serverProof(key, { ...hello, nonce: randomBytes(32) }, server))
  assert.not.equal(s, serverProof(key, hello, { ...server, nonce: randomBytes(32) }))
  // A man in the middle cannot change the ranges or the chosen version: the proofs cover them.
  assert.not.equal(s, serverProof(key, { ...hello, versions: { min: 2, max: 2 } }, server))
  assert.not.equal(s, serverProof(key, hello, { ...server, versions: { min: 1, max: 2 } }))
  assert.not.equal(s, serverProof(key, hello, { ...server, version: 1 }))
  assert.equal(s, serverProof(key, hello, server))
  // The secret is not in any handshake message.
  const wire = encodeHello(hello)
  assert.is(wire.includes(Buffer.from(SECRET)), false)
})

test('decodeHello: a version below 1 is BadVersion; a version-1 Hello reads as [1, 1]; trailing fields are ignored; malformed input is a ProtocolError', () => {
  const cbor = new Encoder({ useRecords: false })
  const body = (v: unknown) => cbor.encode(v)
  const codeOf = (fn: () => unknown) => {
    try {
      fn()
    } catch (e) {
      return (e as HandshakeError).closeCode
    }
    return null
  }
  assert.is(codeOf(() => decodeHello(body([PROTOCOL_VERSION + 1, 'a']))), CloseCode.ProtocolError)
  assert.is(codeOf(() => decodeHello(body([0, 'a', 'x', randomBytes(32), 'b']))), CloseCode.BadVersion)
  assert.is(codeOf(() => decodeHello(body([3, 'a', 'x', randomBytes(32), 'b', 2]))), CloseCode.ProtocolError)
  assert.equal(decodeHello(body([1, 'a', 'x', randomBytes(32), 'b'])).versions, { min: 1, max: 1 })
  assert.equal(decodeHello(body([2, 'a', 'x', randomBytes(32), 'b', 7, 'from a later version', { x: 1 }])).versions, { min: 2, max: 7 })
  assert.is(codeOf(() => decodeHello(body({ v: 1 }))), CloseCode.ProtocolError)
  assert.is(codeOf(() => decodeHello(body([PROTOCOL_VERSION, 'a', 'x', randomBytes(31), 'b']))), CloseCode.ProtocolError)
  assert.is(codeOf(() => decodeHello(body([PROTOCOL_VERSION, '', 'x', randomBytes(32), 'b']))), CloseCode.ProtocolError)
  assert.is(codeOf(() => decodeHello(new Uint8Array([0x85, 0x01]))), CloseCode.ProtocolError)
  assert.ok(decodeHello(body([PROTOCOL_VERSION, 'a', 'x', randomBytes(32), 'b'])).name === 'a')
})

test('wrong secret: the connection is closed with a logged reason; the right peer still works', async () => {
  const a = await startNode('a')
  const b = await startNode('b')
  const intruder = await startNode('c', { secret: 'not-the-cluster-secret-at-all' })
  link(a, b)
  intruder.transport.addPeer('a', a.url)
  a.transport.addPeer('c', intruder.url)
  try {
    a.system.spawn(Counter, { name: 'c' })
    // c dials a: a's proof fails at c, which closes with AuthFailed; a logs the reason it got.
    intruder.system.remoteRef<CounterP>('a', '/user/c').tell('add', 1)
    await eventually(() => a.sink.count((e) => e.code === CloseCode.AuthFailed) > 0, 'a logs the failed authentication')
    assert.ok(intruder.sink.find((e) => e.event === 'connection-closed' && e.code === CloseCode.AuthFailed))
    // a dials c: now c's proof fails at a.
    a.system.remoteRef('c', '/user/x').tell('anything' as never)
    await eventually(() => a.sink.count((e) => e.event === 'connection-closed' && e.code === CloseCode.AuthFailed) > 0, 'a closes c on a bad proof')
    // A raw client with a forged proof is closed with AuthFailed by a.
    const raw = await RawClient.connect(a.url)
    await raw.handshake('mallory', 'a', 'a-guessed-secret-of-some-length').catch(() => {})
    const closed = await raw.closed
    assert.is(closed.code, CloseCode.AuthFailed)
    assert.match(closed.reason, /proof does not match/)
    // Nothing from the intruder was delivered; b still works.
    assert.is(await a.system.remoteRef<CounterP>('a', '/user/c').ask('get'), 0)
    b.system.spawn(Counter, { name: 'd' })
    assert.is(await a.system.remoteRef<CounterP>('b', '/user/d').ask('get'), 0)
    assert.is(a.transport.stats().open, 1)
  } finally {
    await Promise.all([a.stop(), b.stop(), intruder.stop()])
  }
})

test('version 0 (no version): rejected with BadVersion and logged; the node keeps serving', async () => {
  const a = await startNode('a')
  const b = await startNode('b')
  link(a, b)
  try {
    const raw = await RawClient.connect(a.url)
    const cbor = new Encoder({ useRecords: false })
    await raw.send(encodeFrame(FrameType.Hello, cbor.encode([0, 'old', 'inc', randomBytes(32), 'a'])))
    const closed = await raw.closed
    assert.is(closed.code, CloseCode.BadVersion)
    assert.match(closed.reason, /version 0 not supported/)
    assert.ok(a.sink.find((e) => e.code === CloseCode.BadVersion && e.event === 'connection-closed'))
    a.system.spawn(Counter, { name: 'c' })
    assert.is(await b.system.remoteRef<CounterP>('a', '/user/c').ask('get'), 0)
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
})

test('simultaneous connect resolves to one connection, and no frame is lost or reordered', async () => {
  for (let round = 0; round < 8; round++) {
    const a = await startNode('a')
    const b = await startNode('b')
    link(a, b)
    try {
      a.system.spawn(Counter, { name: 'c' })
      b.system.spawn(Counter, { name: 'c' })
      const toB = a.system.remoteRef<CounterP>('b', '/user/c')
      const toA = b.system.remoteRef<CounterP>('a', '/user/c')
      // Both dial in the same turn.
      for (let i = 1; i <= 300; i++) {
        toB.tell('add', i)
        toA.tell('add', i)
      }
      const expected = Array.from({ length: 300 }, (_, i) => i + 1)
      assert.equal(await toB.ask('log'), expected)
      assert.equal(await toA.ask('log'), expected)
      await eventually(() => a.transport.stats().handshaking === 0 && b.transport.stats().handshaking === 0, 'losing dials closed')
      assert.equal([a.transport.stats().open, b.transport.stats().open], [1, 1])
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  }
})

test('a new incarnation of a peer replaces the old connection', async () => {
  const a = await startTransport('a')
  const b1 = await startTransport('b')
  b1.transport.addPeer('a', a.url)
  try {
    b1.transport.send('a', text('from b1'))
    await eventually(() => a.received.length === 1, 'b1 reaches a')
    // Another process comes up as 'b' (a restart whose old socket a has not seen close yet).
    const b2 = await startTransport('b')
    b2.transport.addPeer('a', a.url)
    b2.transport.send('a', text('from b2'))
    await eventually(() => a.received.length === 2, 'b2 reaches a')
    assert.equal(a.received.map((r) => r.text), ['from b1', 'from b2'])
    assert.equal(a.disconnects, ['b'], 'the old incarnation is reported gone')
    assert.ok(a.sink.find((e) => e.code === CloseCode.Replaced))
    await eventually(() => b1.transport.stats().open === 0, 'b1 is cut off')
    // a answers the new incarnation on the same connection.
    a.transport.send('b', text('to b2'))
    await eventually(() => b2.received.length === 1, 'a reaches b2')
    assert.is(b1.received.length, 0)
    assert.is(a.transport.stats().open, 1)
    await b2.transport.stop()
  } finally {
    await a.transport.stop()
    await b1.transport.stop()
  }
})

test('reconnect after the peer restarts on the same address (new incarnation)', async () => {
  const a = await startTransport('a')
  let b = await startTransport('b')
  const port = b.transport.address()!.port
  a.transport.addPeer('b', b.url)
  try {
    a.transport.send('b', text('one'))
    await eventually(() => b.received.length === 1, 'first frame')
    const firstIncarnation = b.transport.incarnation
    await b.transport.stop()
    await eventually(() => a.disconnects.length === 1, 'a sees b go')
    // While b is down, a frame waits for one dial; the dial fails and the frame is dropped (at most once).
    a.transport.send('b', text('lost'))
    await eventually(() => a.sink.count((e) => e.event === 'frame-dropped' && /dial failed/.test(e.reason ?? '')) === 1, 'the frame is dropped when the dial fails')
    b = await startTransport('b', { listen: { host: '127.0.0.1', port } })
    assert.is.not(b.transport.incarnation, firstIncarnation)
    a.transport.send('b', text('two'))
    a.transport.send('b', text('three'))
    await eventually(() => b.received.length === 2, 'frames after the restart')
    assert.equal(b.received.map((r) => r.text), ['two', 'three'])
    assert.ok(a.sink.find((e) => e.event === 'connection-established' && (e.reason ?? '').includes(b.transport.incarnation!)))
  } finally {
    await a.transport.stop()
    await b.transport.stop()
  }
})

test.run()
