import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, MemoryNetwork, defineActor } from '@troupe/runtime'
import { rejectsWith, settle } from './helpers.js'
import { Counter, twoNodes } from './remote-helpers.js'

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
