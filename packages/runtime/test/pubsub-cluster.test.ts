import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, MemoryNetwork, defineActor } from '@troupe/runtime'
import type { ActorRef, DeadLetter } from '@troupe/runtime'
import { PubSub } from '../src/pubsub/index.js'
import type { PubSubOptions, Published } from '../src/pubsub/index.js'
import { rejectsWith } from './helpers.js'
import { FakeView, settle, until } from './sharding-helpers.js'

type Msg = { from: string; seq: number }

const Sub = defineActor({
  name: 'sub',
  initial: () => ({ got: [] as Published<Msg>[] }),
  handlers: {
    published(s, p: Published<Msg>) {
      s.got.push(p)
    },
    got: (s) => s.got,
  },
})

interface PNode {
  system: ActorSystem
  view: FakeView
  pubsub: PubSub
}

async function cluster(names: string[], net = new MemoryNetwork(), members = names): Promise<{ net: MemoryNetwork; nodes: Record<string, PNode>; stop(): Promise<void> }> {
  const nodes: Record<string, PNode> = {}
  for (const name of names) nodes[name] = await startNode(net, name, members)
  return { net, nodes, stop: () => Promise.all(Object.values(nodes).map((n) => n.system.terminate())).then(() => undefined) }
}

async function startNode(net: MemoryNetwork, name: string, members: string[], options: PubSubOptions = {}): Promise<PNode> {
  const system = new ActorSystem({ name, transport: net.transport(), askTimeoutMs: 20_000 })
  await system.start()
  const view = new FakeView(name, members)
  return { system, view, pubsub: PubSub.start(system, view, { gossipIntervalMs: 50, ...options }) }
}

test('publish from any node reaches every subscriber on every node once, in order per publisher; one message per node with subscribers', async () => {
  const { nodes, stop } = await cluster(['a', 'b', 'c'])
  const subs = { a1: nodes.a.system.spawn(Sub), a2: nodes.a.system.spawn(Sub), b1: nodes.b.system.spawn(Sub) }
  const elsewhere = nodes.c.system.spawn(Sub)
  await nodes.a.pubsub.subscribe('room', subs.a1)
  await nodes.a.pubsub.subscribe('room', subs.a2)
  await nodes.b.pubsub.subscribe('room', subs.b1)
  await nodes.c.pubsub.subscribe('other', elsewhere)
  for (let seq = 1; seq <= 10; seq++) for (const from of ['a', 'b', 'c']) nodes[from].pubsub.publish('room', { from, seq })
  for (const [name, ref] of Object.entries(subs)) {
    let got: Published<Msg>[] = []
    await untilAsync(async () => (got = await ref.ask('got')).length >= 30, `${name} got 30`)
    assert.is(got.length, 30, name)
    assert.ok(got.every((p) => p.topic === 'room'))
    for (const from of ['a', 'b', 'c']) {
      assert.equal(got.filter((p) => p.message.from === from).map((p) => p.message.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], `${name} from ${from}`)
    }
  }
  assert.equal(await elsewhere.ask('got'), [])
  // c has no subscriber for 'room': it was never sent one; a and b got one copy per remote publish.
  assert.is(nodes.c.pubsub.stats().received, 0)
  assert.is(nodes.a.pubsub.stats().received, 20)
  assert.is(nodes.b.pubsub.stats().received, 20)
  await stop()
})

test('unsubscribe: once it resolves nothing more arrives; the others still get theirs; the last one leaving stops remote sends', async () => {
  const { nodes, stop } = await cluster(['a', 'b', 'c'])
  const onA = nodes.a.system.spawn(Sub)
  const onB = nodes.b.system.spawn(Sub)
  await nodes.a.pubsub.subscribe('t', onA)
  await nodes.b.pubsub.subscribe('t', onB)
  nodes.c.pubsub.publish('t', { from: 'c', seq: 1 })
  await untilAsync(async () => (await onA.ask('got')).length === 1 && (await onB.ask('got')).length === 1, 'first')
  await nodes.a.pubsub.unsubscribe('t', onA)
  nodes.c.pubsub.publish('t', { from: 'c', seq: 2 })
  nodes.a.pubsub.publish('t', { from: 'a', seq: 3 })
  await untilAsync(async () => (await onB.ask('got')).length === 3, 'b gets all')
  await settle(20)
  assert.equal((await onA.ask('got')).map((p) => p.message.seq), [1])
  // a has no subscriber left: after its update spreads, c no longer sends to a.
  await until(() => nodes.c.pubsub.stats().remoteTopics === 1, 'c learns a left')
  const before = nodes.a.pubsub.stats().received
  nodes.c.pubsub.publish('t', { from: 'c', seq: 4 })
  await untilAsync(async () => (await onB.ask('got')).length === 4, 'b gets 4')
  assert.is(nodes.a.pubsub.stats().received, before)
  await stop()
})

test('a subscriber that stops is removed everywhere; nothing is sent to it afterwards', async () => {
  const { nodes, stop } = await cluster(['a', 'b'])
  const dead: DeadLetter[] = []
  nodes.a.system.events.on('deadLetter', (d) => dead.push(d))
  const doomed = nodes.a.system.spawn(Sub)
  const stays = nodes.b.system.spawn(Sub)
  await nodes.a.pubsub.subscribe('x', doomed)
  await nodes.a.pubsub.subscribe('y', doomed)
  await nodes.b.pubsub.subscribe('x', stays)
  assert.is(nodes.a.pubsub.stats().subscribers, 1)
  await nodes.a.system.stop(doomed)
  await until(() => nodes.a.pubsub.stats().subscribers === 0 && nodes.b.pubsub.stats().remoteTopics === 0, 'removal spreads')
  nodes.b.pubsub.publish('x', { from: 'b', seq: 1 })
  nodes.a.pubsub.publish('y', { from: 'a', seq: 1 })
  await untilAsync(async () => (await stays.ask('got')).length === 1, 'stays gets it')
  await settle(20)
  assert.equal(dead.filter((d) => d.type === 'published'), [])
  assert.is(nodes.a.pubsub.stats().topics, 0)
  await stop()
})

test('a remote ref can subscribe; a node that joins later learns the table and its publishes arrive; a node that leaves is forgotten', async () => {
  const net = new MemoryNetwork()
  const { nodes, stop } = await cluster(['a', 'b'], net)
  const onB = nodes.b.system.spawn(Sub, { name: 's' })
  // Subscribed through a's mediator with a ref to an actor on b.
  await nodes.a.pubsub.subscribe('r', nodes.a.system.remoteRef<typeof onB extends ActorRef<infer P> ? P : never>('b', '/user/s'))
  const c = await startNode(net, 'c', ['a', 'b', 'c'])
  nodes.a.view.set(['a', 'b', 'c'])
  nodes.b.view.set(['a', 'b', 'c'])
  const onC = c.system.spawn(Sub)
  await c.pubsub.subscribe('r', onC)
  await until(() => c.pubsub.stats().remoteTopics === 1, 'c learns a has subscribers')
  c.pubsub.publish('r', { from: 'c', seq: 1 })
  await untilAsync(async () => (await onB.ask('got')).length === 1 && (await onC.ask('got')).length === 1, 'both get it')
  nodes.a.view.set(['a', 'b'])
  nodes.b.view.set(['a', 'b'])
  await settle(10)
  assert.is(nodes.a.pubsub.stats().remoteTopics, 0)
  await c.system.terminate()
  await stop()
})

test('bad input: invalid topics and subscribers are typed errors; malformed mediator messages are dropped with a reason', async () => {
  const { nodes, stop } = await cluster(['a', 'b'])
  const { pubsub, system } = nodes.a
  const sub = system.spawn(Sub)
  for (const bad of ['', 'x'.repeat(257), '\uDC00', 7 as any]) {
    await rejectsWith(pubsub.subscribe(bad, sub), 'INVALID_ARGUMENT')
    assert.throws(() => pubsub.publish(bad, 1), (e: any) => e.code === 'INVALID_ARGUMENT')
  }
  await rejectsWith(pubsub.subscribe('t', {} as any), 'INVALID_ARGUMENT')
  await rejectsWith(pubsub.unsubscribe('t', 'nope' as any), 'INVALID_ARGUMENT')
  const reasons: string[] = []
  system.events.on('deadLetter', (d) => reasons.push(d.reason))
  const mediator = nodes.b.system.remoteRef('a', '/system/pubsub')
  mediator.tell('delta', { node: 'b', epoch: -1 })
  mediator.tell('sync', 'garbage')
  mediator.tell('deliver', { topic: 42 })
  mediator.tell('ack', null)
  mediator.tell('what', 1)
  await until(() => reasons.length === 5, 'five rejections')
  assert.ok(reasons.every((r) => r === 'malformed'))
  await pubsub.subscribe('t', sub)
  nodes.b.pubsub.publish('t', { from: 'b', seq: 1 })
  await untilAsync(async () => (await sub.ask('got')).length === 1, 'still works')
  await stop()
})

test('subscribe rejects with ASK_TIMEOUT when a peer cannot confirm, and the subscription still spreads once it can', async () => {
  const net = new MemoryNetwork()
  const a = await startNode(net, 'a', ['a', 'b'], { subscribeTimeoutMs: 100 })
  // b is up but runs no mediator yet, so a gets no acknowledgement.
  const bSystem = new ActorSystem({ name: 'b', transport: net.transport() })
  await bSystem.start()
  const sub = a.system.spawn(Sub)
  await rejectsWith(a.pubsub.subscribe('late', sub), 'ASK_TIMEOUT')
  assert.is(a.pubsub.stats().topics, 1)
  const b = PubSub.start(bSystem, new FakeView('b', ['a', 'b']), { gossipIntervalMs: 20 })
  await until(() => b.stats().remoteTopics === 1, 'b learns of the topic')
  b.publish('late', { from: 'b', seq: 1 })
  await untilAsync(async () => (await sub.ask('got')).length === 1, 'delivered after all')
  await a.pubsub.subscribe('late', sub)
  await bSystem.terminate()
  await a.system.terminate()
})

test('subscribe does not wait for a member this node finds unreachable; it does wait while the member counts as reachable', async () => {
  const net = new MemoryNetwork()
  const a = await startNode(net, 'a', ['a', 'b', 'c'], { subscribeTimeoutMs: 10_000 })
  const b = await startNode(net, 'b', ['a', 'b', 'c'])
  try {
    // c is up in the view but silent (no node at all), like a crashed member not yet downed.
    const sub = a.system.spawn(Sub)
    let settled = false
    const pending = a.pubsub.subscribe('t1', sub).finally(() => (settled = true))
    await new Promise((r) => setTimeout(r, 300))
    assert.not.ok(settled, 'waits for c while c counts as reachable')
    a.view.setReachable('c', false)
    await pending // settled at the next gossip round: b has acknowledged, c no longer counts
    await a.pubsub.subscribe('t2', sub)
    b.pubsub.publish('t2', { from: 'b', seq: 1 })
    await untilAsync(async () => (await sub.ask('got')).some((p) => p.topic === 't2'), 'b reaches the subscriber')
  } finally {
    await b.system.terminate()
    await a.system.terminate()
  }
})

async function untilAsync(cond: () => Promise<boolean>, what: string, limitMs = 20_000): Promise<void> {
  const start = performance.now()
  while (!(await cond())) {
    if (performance.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

test.run()
