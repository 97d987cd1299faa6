import { createServer } from 'node:net'
import type { Socket } from 'node:net'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ManualClock, isTroupeError } from '@troupe/runtime'
import { CloseCode, WebSocketTransport } from '../src/ws/index.js'
import { Peer } from '../src/ws/peer-table.js'
import { RawClient, SECRET, eventually, startTransport, text } from './ws-helpers.js'

const test = suite('ws limits')

test('redial backoff: capped exponential, jitter within [d/2, d), one draw per delay, reset on connect', () => {
  const limits = { maxBufferedBytes: 1024, maxQueuedFrames: 16, reconnect: { minMs: 100, maxMs: 800 } }
  let draws = 0
  const lows = new Peer('b', limits, () => (draws++, 0))
  assert.equal([1, 2, 3, 4, 5, 6].map(() => lows.redialDelayMs()), [50, 100, 200, 400, 400, 400])
  assert.is(draws, 6)
  const highs = new Peer('b', limits, () => 0.999)
  const d = [1, 2, 3, 4, 5].map(() => highs.redialDelayMs())
  assert.ok(d.every((x, i) => x < [100, 200, 400, 800, 800][i] && x >= [50, 100, 200, 400, 400][i]), String(d))
  lows.connected()
  assert.is(lows.redialDelayMs(), 50)
  const far = new Peer('b', { ...limits, reconnect: { minMs: 1, maxMs: Number.MAX_VALUE } }, () => 0.5)
  for (let i = 0; i < 40; i++) far.redialDelayMs()
  assert.is(far.redialDelayMs(), 0.75 * 2 ** 30)
})

test('send past maxBufferedBytes throws BACKPRESSURE; memory stays bounded; accepted frames arrive in order', async () => {
  const maxBufferedBytes = 4 * 1024 * 1024
  const a = await startTransport('a', { maxBufferedBytes })
  const b = await startTransport('b')
  a.transport.addPeer('b', b.url)
  try {
    a.transport.send('b', text('hello'))
    await eventually(() => b.received.length === 1, 'connected')
    const frame = Buffer.alloc(1024 * 1024, 0x61)
    let accepted = 0
    let peakBytes = 0
    let refused: unknown = null
    // One synchronous burst: b cannot read meanwhile, so the socket's buffer must fill.
    for (let i = 0; i < 200 && refused === null; i++) {
      try {
        frame.writeUInt32BE(i, 0)
        a.transport.send('b', frame)
        accepted++
        peakBytes = Math.max(peakBytes, a.transport.bufferedBytes('b'))
      } catch (err) {
        refused = err
      }
    }
    assert.ok(isTroupeError(refused, 'BACKPRESSURE'), `expected BACKPRESSURE, got ${String(refused)}`)
    assert.ok(peakBytes <= maxBufferedBytes + frame.length, `peak ${peakBytes}`)
    console.log(`    backpressure after ${accepted} MiB accepted, peak buffered ${(peakBytes / 2 ** 20).toFixed(1)} MiB`)
    await eventually(() => b.received.length === 1 + accepted, 'accepted frames delivered')
    const order = b.received.slice(1).map((r) => Buffer.from(r.text, 'latin1').readUInt32BE(0))
    assert.equal(order, Array.from({ length: accepted }, (_, i) => i))
    // Drained: sending works again.
    a.transport.send('b', text('after'))
    await eventually(() => b.received.at(-1)?.text === 'after', 'send after drain')
  } finally {
    await a.transport.stop()
    await b.transport.stop()
  }
})

test('while connecting, frames queue up to the bound and the rest are dropped with a sparse log', async () => {
  const a = await startTransport('a', { maxQueuedFrames: 100, maxBufferedBytes: 64 * 1024, peers: { z: 'ws://127.0.0.1:1' } })
  try {
    for (let i = 0; i < 10_000; i++) a.transport.send('z', Buffer.alloc(100))
    const s = a.transport.stats()
    assert.is(s.queuedFrames, 100)
    assert.is(s.droppedFrames, 9_900)
    assert.ok(a.transport.bufferedBytes('z') <= 64 * 1024)
    const logged = a.sink.count((e) => e.event === 'frame-dropped')
    assert.ok(logged > 0 && logged <= 14, `logged ${logged} drops`)
    // Unknown node: dropped, never thrown.
    a.transport.send('nobody', text('x'))
    assert.is(a.transport.stats().droppedFrames, 9_901)
    assert.ok(a.sink.find((e) => e.event === 'frame-dropped' && e.node === 'nobody'))
  } finally {
    await a.transport.stop()
  }
})

test('options and address book are validated; removePeer drops what was queued for it', async () => {
  const invalid = (fn: () => unknown) => assert.throws(fn, (e: unknown) => isTroupeError(e, 'INVALID_ARGUMENT'))
  invalid(() => new WebSocketTransport({ listen: null, secret: 'short' }))
  invalid(() => new WebSocketTransport({ listen: null, secret: SECRET, peers: { b: 'http://127.0.0.1:1' } }))
  invalid(() => new WebSocketTransport({ listen: null, secret: SECRET, reconnect: { minMs: 100, maxMs: 10 } }))
  invalid(() => new WebSocketTransport({ listen: null, secret: SECRET, maxBufferedBytes: 0 }))
  const a = await startTransport('a', { peers: { z: 'ws://127.0.0.1:1' } })
  try {
    invalid(() => a.transport.addPeer('y', 'not a url'))
    a.transport.send('z', text('x'))
    a.transport.removePeer('z')
    assert.equal([a.transport.stats().queuedFrames, a.transport.stats().droppedFrames], [0, 1])
  } finally {
    await a.transport.stop()
  }
})

test('a frame over maxPayloadBytes is a typed error at the sender', async () => {
  const a = await startTransport('a', { maxPayloadBytes: 1000, peers: { b: 'ws://127.0.0.1:1' } })
  try {
    assert.throws(() => a.transport.send('b', Buffer.alloc(1000)), (e: unknown) => isTroupeError(e, 'MESSAGE_TOO_LARGE'))
    a.transport.send('b', Buffer.alloc(999))
  } finally {
    await a.transport.stop()
  }
})

test('redial follows the injected clock and random: no dial before the backoff delay', async () => {
  const clock = new ManualClock(0)
  const a = await startTransport('a', { clock, random: () => 0, reconnect: { minMs: 100, maxMs: 800 }, keepAlive: null, peers: { z: 'ws://127.0.0.1:1' } })
  const dials = () => a.sink.count((e) => e.event === 'dial-failed')
  try {
    a.transport.send('z', text('x'))
    await eventually(() => dials() === 1, 'first dial fails')
    const delays = [50, 100, 200, 400, 400]
    for (let i = 0; i < delays.length; i++) {
      // The failed dial dropped what was queued; a new frame asks for a new dial, which waits for the backoff.
      a.transport.send('z', text('x'))
      clock.advance(delays[i] - 1)
      await new Promise((r) => setTimeout(r, 30))
      assert.is(dials(), 1 + i, `no dial before ${delays[i]} ms`)
      clock.advance(1)
      await eventually(() => dials() === 2 + i, `dial after ${delays[i]} ms`)
    }
  } finally {
    await a.transport.stop()
  }
})

test('a dial to a listener that never answers is cut at handshakeTimeoutMs; its frames are dropped', async () => {
  const held: Socket[] = []
  const blackHole = createServer((s) => void held.push(s))
  await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', () => r()))
  const port = (blackHole.address() as { port: number }).port
  const a = await startTransport('a', { handshakeTimeoutMs: 100, peers: { z: `ws://127.0.0.1:${port}` } })
  try {
    a.transport.send('z', text('x'))
    assert.is(a.transport.stats().queuedFrames, 1, 'the frame waits for the dial')
    await eventually(() => a.sink.count((e) => e.code === CloseCode.HandshakeTimeout) === 1, 'the dial times out')
    assert.is(a.transport.stats().queuedFrames, 0, 'and the frame is dropped')
    assert.is(a.transport.stats().droppedFrames, 1)
    a.transport.send('z', text('y'))
    await eventually(() => a.sink.count((e) => e.code === CloseCode.HandshakeTimeout) === 2, 'the next frame dials again')
  } finally {
    await a.transport.stop()
    for (const s of held) s.destroy()
    blackHole.close()
  }
})

test('keep-alive drops a connection whose peer went silent, and keeps one that answers', async () => {
  const clock = new ManualClock(0)
  const a = await startTransport('a', { clock, keepAlive: { intervalMs: 1000, timeoutMs: 3000 } })
  const b = await startTransport('b', { keepAlive: null })
  b.transport.addPeer('a', a.url)
  try {
    b.transport.send('a', text('hi'))
    await eventually(() => a.received.length === 1, 'b connected')
    // A peer that never answers pings (a half-open link looks like this).
    const mute = await RawClient.connect(a.url, { autoPong: false })
    await mute.handshake('mute', 'a')
    assert.is(a.transport.stats().open, 2)
    for (let i = 0; i < 5; i++) {
      clock.advance(1000)
      await new Promise((r) => setTimeout(r, 20))
    }
    assert.is((await mute.closed).code, 1006, 'terminated without a close frame')
    assert.ok(a.sink.find((e) => e.code === CloseCode.KeepAliveTimeout && e.node === 'mute'))
    assert.equal(a.disconnects, ['mute'])
    assert.is(a.transport.stats().open, 1, 'b answered every ping and stays')
  } finally {
    await a.transport.stop()
    await b.transport.stop()
  }
})

test.run()
