import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, MemoryNetwork, defineActor } from '@troupe/runtime'
import type { ActorRef, Signal } from '@troupe/runtime'
import { rejectsWith, settle } from './helpers.js'

const Counter = defineActor({
  name: 'counter',
  initial: () => ({ n: 0, log: [] as number[] }),
  supervision: { onFailure: 'stop' },
  handlers: {
    add(s, by: number) {
      s.n += by
      s.log.push(by)
    },
    get: (s) => s.n,
    log: (s) => s.log,
    fail() {
      throw new Error('remote boom')
    },
    whoSent(_s, _: void, ctx) {
      return ctx.sender
    },
    forward(_s, p: { to: ActorRef<{ add(n: number): void }>; n: number }) {
      p.to.tell('add', p.n)
    },
  },
})

async function twoNodes() {
  const net = new MemoryNetwork()
  const a = new ActorSystem({ name: 'a', transport: net.transport(), askTimeoutMs: 500 })
  const b = new ActorSystem({ name: 'b', transport: net.transport(), askTimeoutMs: 500 })
  await a.start()
  await b.start()
  return { net, a, b }
}

test('remote tell and ask; order per sender is kept', async () => {
  const { a, b } = await twoNodes()
  b.spawn(Counter, { name: 'c' })
  const remote = a.remoteRef<typeof Counter extends { __protocol?: infer P } ? NonNullable<P> : never>('b', '/user/c')
  for (let i = 1; i <= 200; i++) remote.tell('add', i)
  assert.is(await remote.ask('get'), 200 * 201 / 2)
  assert.equal(await remote.ask('log'), Array.from({ length: 200 }, (_, i) => i + 1))
  await a.terminate()
  await b.terminate()
})

test('refs travel inside messages and work on arrival', async () => {
  const { a, b } = await twoNodes()
  const onA = a.spawn(Counter, { name: 'local' })
  b.spawn(Counter, { name: 'c' })
  const remote = a.remoteRef('b', '/user/c')
  remote.tell('forward', { to: onA, n: 5 })
  await settle()
  assert.is(await onA.ask('get'), 5)
  await a.terminate()
  await b.terminate()
})

test('remote errors: handler failure, unknown actor, timeout', async () => {
  const { a, b } = await twoNodes()
  b.spawn(Counter, { name: 'c' })
  const remote = a.remoteRef('b', '/user/c')
  const e = await rejectsWith(remote.ask('fail'), 'HANDLER_FAILED')
  assert.match(e.message, /remote boom/)
  await rejectsWith(a.remoteRef('b', '/user/nobody').ask('get'), 'ACTOR_NOT_FOUND')
  const Silent = defineActor({ initial: () => null, handlers: { never: (_s, _: void, ctx) => void ctx.deferReply() } })
  b.spawn(Silent, { name: 's' })
  await rejectsWith(a.remoteRef('b', '/user/s').ask('never', undefined, { timeoutMs: 30 }), 'ASK_TIMEOUT')
  await a.terminate()
  await b.terminate()
})

test('remote watch: Terminated when the remote actor stops, and node-down', async () => {
  const { a, b } = await twoNodes()
  const signals: Signal[] = []
  const Watcher = defineActor({
    initial: () => null,
    onSignal: (_s, sig) => void signals.push(sig),
    handlers: { watch: (_s, ref: ActorRef<any>, ctx) => ctx.watch(ref) },
  })
  const w = a.spawn(Watcher)
  const c = b.spawn(Counter, { name: 'c' })
  b.spawn(Counter, { name: 'd' })
  await w.ask('watch', a.remoteRef('b', '/user/c'))
  await w.ask('watch', a.remoteRef('b', '/user/d'))
  await settle()
  await b.stop(c)
  await settle()
  assert.is(signals.length, 1)
  assert.ok(signals[0].type === 'terminated' && signals[0].reason.kind === 'stopped' && signals[0].ref.path === '/user/c')
  a.nodeDown('b')
  await settle()
  assert.is(signals.length, 2)
  assert.ok(signals[1].type === 'terminated' && signals[1].reason.kind === 'node-down')
  await a.terminate()
  await b.terminate()
})

test('malformed frames are rejected with a reason; the node keeps serving', async () => {
  const { a, b } = await twoNodes()
  const rejected: string[] = []
  b.events.on('inboundRejected', (r) => rejected.push(r.reason))
  b.spawn(Counter, { name: 'c' })
  const raw = (b as any).remoting.inbound as { receive(from: string, f: Uint8Array): void }
  raw.receive('a', new Uint8Array([0xff, 0x00, 0x12]))
  raw.receive('a', new Uint8Array([0x9a, 0x7f, 0xff, 0xff, 0xff]))
  raw.receive('a', b.codec.encode([99, 'x']))
  raw.receive('a', b.codec.encode('not an envelope'))
  raw.receive('a', b.codec.encode([1, '/user/c', 0, 'add', 1, 'not a ref']))
  const deep = new Uint8Array(100_000).fill(0x81)
  raw.receive('a', deep)
  assert.is(rejected.length, 6, rejected.join('\n'))
  assert.is(await a.remoteRef('b', '/user/c').ask('get'), 0)
  await a.terminate()
  await b.terminate()
})

test('oversized and unencodable messages are typed errors at the sender', async () => {
  const net = new MemoryNetwork()
  const a = new ActorSystem({ name: 'a', transport: net.transport(), remoting: { maxMessageBytes: 1000 } })
  const b = new ActorSystem({ name: 'b', transport: net.transport() })
  await a.start()
  await b.start()
  b.spawn(Counter, { name: 'c' })
  const remote = a.remoteRef('b', '/user/c')
  assert.throws(() => remote.tell('add', 'x'.repeat(2000) as any), (e: any) => e.code === 'MESSAGE_TOO_LARGE')
  await rejectsWith(remote.ask('add', 'y'.repeat(2000) as any), 'MESSAGE_TOO_LARGE')
  await a.terminate()
  await b.terminate()
})

test('a saturated link refuses new user messages with BACKPRESSURE; a refused frame is reported', async () => {
  const net = new MemoryNetwork()
  let full = false
  let failSend = false
  const inner = net.transport()
  const transport = {
    start: inner.start.bind(inner),
    stop: inner.stop.bind(inner),
    send(node: string, frame: Uint8Array) {
      if (failSend) throw new Error('socket buffer full')
      inner.send(node, frame)
    },
    writable: () => !full,
  }
  const a = new ActorSystem({ name: 'a', transport })
  const b = new ActorSystem({ name: 'b', transport: net.transport() })
  await a.start()
  await b.start()
  b.spawn(Counter, { name: 'c' })
  const remote = a.remoteRef('b', '/user/c')
  full = true
  assert.throws(() => remote.tell('add', 1), (e: any) => e.code === 'BACKPRESSURE')
  await rejectsWith(remote.ask('get'), 'BACKPRESSURE')
  full = false
  const dropped: string[] = []
  a.events.on('outboundDropped', (d) => dropped.push(d.reason))
  failSend = true
  remote.tell('add', 1)
  await settle()
  assert.is(dropped.length, 1)
  failSend = false
  assert.is(await remote.ask('get'), 0)
  await a.terminate()
  await b.terminate()
})

test('frames leave in the order their nodes got a first envelope since the last flush', async () => {
  const net = new MemoryNetwork()
  const inner = net.transport()
  const sentTo: string[] = []
  const transport = {
    start: inner.start.bind(inner),
    stop: inner.stop.bind(inner),
    send(node: string, frame: Uint8Array) {
      sentTo.push(node)
      inner.send(node, frame)
    },
  }
  const a = new ActorSystem({ name: 'a', transport })
  const [b, c] = [new ActorSystem({ name: 'b', transport: net.transport() }), new ActorSystem({ name: 'c', transport: net.transport() })]
  for (const s of [a, b, c]) await s.start()
  b.spawn(Counter, { name: 'k' })
  c.spawn(Counter, { name: 'k' })
  const [toB, toC] = [a.remoteRef('b', '/user/k'), a.remoteRef('c', '/user/k')]
  toB.tell('add', 1)
  toC.tell('add', 1)
  await settle()
  // The next turn writes to c first: c's frame goes first, though b was seen first ever.
  toC.tell('add', 1)
  toB.tell('add', 1)
  await settle()
  assert.equal(sentTo, ['b', 'c', 'c', 'b'])
  for (const s of [a, b, c]) await s.terminate()
})

test('remote spawn of a registered kind: the ref works; unknown kinds and taken names are typed errors', async () => {
  const { a, b } = await twoNodes()
  b.registerKind(Counter)
  const remote = await a.spawnRemote('b', Counter, { name: 'spawned' })
  assert.is(remote.node, 'b')
  assert.is(remote.path, '/user/spawned')
  remote.tell('add', 4)
  assert.is(await remote.ask('get'), 4)
  assert.is(await b.lookup('/user/spawned')!.ask('get'), 4)
  await rejectsWith(a.spawnRemote('b', Counter, { name: 'spawned' }), 'NAME_TAKEN')
  const Other = defineActor({ name: 'other', initial: () => null, handlers: { hi: () => 'hi' } })
  await rejectsWith(a.spawnRemote('b', Other), 'UNKNOWN_ACTOR_KIND')
  await rejectsWith(a.spawnRemote('a', Other), 'UNKNOWN_ACTOR_KIND')
  const anonymous = await a.spawnRemote('b', Counter)
  assert.ok(anonymous.path.startsWith('/user/$'))
  await a.terminate()
  await b.terminate()
})

test('halt stops a node like a crash: nothing runs, nothing is sent, no stop hooks', async () => {
  const { a, b } = await twoNodes()
  let stopped = 0
  const Hooked = defineActor({ initial: () => ({ n: 0 }), onStop: () => void stopped++, handlers: { inc: (s) => ++s.n } })
  const local = b.spawn(Hooked, { name: 'h' })
  assert.is(await local.ask('inc'), 1)
  b.halt()
  local.tell('inc')
  await rejectsWith(a.remoteRef('b', '/user/h').ask('inc', undefined, { timeoutMs: 30 }), 'ASK_TIMEOUT')
  assert.is(stopped, 0)
  assert.throws(() => b.spawn(Hooked), (e: any) => e.code === 'SYSTEM_STOPPED')
  await a.terminate()
})

test.run()
