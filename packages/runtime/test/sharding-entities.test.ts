import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { defineActor } from '@troupe/runtime'
import type { ActorRef } from '@troupe/runtime'
import { Allocation, Sharding, entityId } from '../src/sharding/index.js'
import { rejectsWith } from './helpers.js'
import { ActivationTracker, FakeView, TestCluster, recorderKind, settle } from './sharding-helpers.js'
import { ActorSystem } from '@troupe/runtime'

const NODES = ['a', 'b', 'c']

test('1,000 entities over 3 nodes: each active on exactly one node, the one its shard maps to, reachable from every node', async () => {
  const tracker = new ActivationTracker()
  const Recorder = recorderKind(tracker)
  const cluster = await TestCluster.start(NODES, [Recorder])
  const ids = Array.from({ length: 1000 }, (_, i) => `user-${i}`)
  // First contact from a different node for each id.
  await Promise.all(ids.map((id, i) => cluster.node(NODES[i % 3]).sharding.entity(Recorder, id).ask('add', 1)))
  // Then every id from every node: the same single activation answers.
  for (const from of NODES) {
    const counts = await Promise.all(ids.map((id) => cluster.node(from).sharding.entity(Recorder, id).ask('add', 1)))
    assert.ok(counts.every((n, i) => n === 2 + NODES.indexOf(from)), `stale or duplicate activation answered for ${ids[counts.findIndex((n) => n !== 2 + NODES.indexOf(from))]}`)
  }
  const table = Allocation.compute(NODES, 1024)
  const sharding = cluster.node('a').sharding
  for (const id of ids) {
    const where = tracker.where(id)
    assert.equal(where, [table.ownerOf(sharding.shardOf(id))], `${id} active on ${where.join(',')}`)
  }
  assert.equal(tracker.doubles, [])
  const perNode = NODES.map((n) => tracker.activeOn(n))
  console.log(`  activations per node: ${NODES.map((n, i) => `${n}=${perNode[i]}`).join(' ')}`)
  assert.is(perNode.reduce((a, b) => a + b, 0), 1000)
  for (const n of perNode) assert.ok(n > 200, `unbalanced: ${perNode}`)
  assert.is(NODES.reduce((sum, n) => sum + cluster.node(n).sharding.stats().activations, 0), 1000)
  await cluster.terminate()
})

test('rendezvous allocation: a join moves shards only to the newcomer, a removal only from the removed; ≈1/N move', () => {
  const shards = 1024
  for (const n of [3, 4, 5, 8]) {
    const members = Array.from({ length: n }, (_, i) => `node-${i}`)
    const before = Allocation.compute(members, shards)
    const joined = Allocation.compute([...members, 'node-new'].sort(), shards)
    let moved = 0
    for (let s = 0; s < shards; s++) {
      if (before.ownerOf(s) === joined.ownerOf(s)) continue
      moved++
      assert.is(joined.ownerOf(s), 'node-new')
    }
    const expected = shards / (n + 1)
    assert.ok(Math.abs(moved - expected) < expected * 0.35, `join of the ${n + 1}th moved ${moved}, expected ≈${expected.toFixed(0)}`)
    const removed = members[1]
    const after = Allocation.compute(members.filter((m) => m !== removed), shards)
    for (let s = 0; s < shards; s++) {
      if (before.ownerOf(s) !== removed) assert.is(after.ownerOf(s), before.ownerOf(s))
    }
    for (const [member, count] of before.counts()) {
      assert.ok(Math.abs(count - shards / n) < (shards / n) * 0.3, `${member} owns ${count} of ${shards}`)
    }
  }
})

test('entity refs travel inside messages and keep working on the receiving node', async () => {
  const tracker = new ActivationTracker()
  const Recorder = recorderKind(tracker)
  const Relay = defineActor({
    name: 'relay',
    initial: () => null,
    handlers: {
      relay: (_s, p: { to: ActorRef<{ add(n: number): number }>; n: number }) => p.to.ask('add', p.n),
      path: (_s, p: { to: ActorRef<any> }) => p.to.path,
    },
  })
  const cluster = await TestCluster.start(NODES, [Recorder])
  for (const n of NODES) cluster.node(n).system.spawn(Relay, { name: 'relay' })
  const table = Allocation.compute(NODES, 1024)
  // An entity owned by c, a ref made on a, used by an actor on b.
  const id = Array.from({ length: 100 }, (_, i) => `e${i}`).find((x) => table.ownerOf(cluster.node('a').sharding.shardOf(x)) === 'c')!
  const ref = cluster.node('a').sharding.entity(Recorder, id)
  assert.is(ref.path, `/entity/recorder/${id}`)
  const relayOnB = cluster.node('a').system.remoteRef('b', '/user/relay')
  assert.is(await relayOnB.ask('relay', { to: ref, n: 5 }), 5)
  assert.is(await relayOnB.ask('relay', { to: ref, n: 2 }), 7)
  assert.is(await relayOnB.ask('path', { to: ref }), ref.path)
  assert.equal(tracker.where(id), ['c'])
  await cluster.terminate()
})

test('the entity gets its id; ids with any characters are distinct entities', async () => {
  const tracker = new ActivationTracker()
  const Recorder = recorderKind(tracker)
  const Whoami = defineActor({ name: 'whoami', initial: (ctx) => ({ id: entityId(ctx) }), handlers: { id: (s) => s.id, path: (_s, _: void, ctx) => ctx.self.path } })
  const cluster = await TestCluster.start(NODES, [Recorder, Whoami])
  const ids = ['plain', 'with/slash', 'with#hash', 'with space', '%2f;', 'ünïcødé 🎭', 'x'.repeat(256)]
  for (const id of ids) assert.is(await cluster.node('b').sharding.entity(Whoami, id).ask('id'), id)
  const paths = await Promise.all(ids.map((id) => cluster.node('c').sharding.entity(Whoami, id).ask('path')))
  assert.is(new Set(paths).size, ids.length)
  const system = cluster.node('a').system
  assert.throws(() => entityId({ self: system.lookup('/system/sharding')! } as any), (e: any) => e.code === 'INVALID_ARGUMENT')
  await cluster.terminate()
})

test('bad input: unknown kind, invalid ids, a kind missing on the owner, bad options', async () => {
  const tracker = new ActivationTracker()
  const Recorder = recorderKind(tracker)
  const Unregistered = defineActor({ name: 'nobody', initial: () => null, handlers: { hi: () => 'hi' } })
  const cluster = await TestCluster.start(NODES, [Recorder])
  const { sharding } = cluster.node('a')
  assert.throws(() => sharding.entity(Unregistered, 'x'), (e: any) => e.code === 'UNKNOWN_ENTITY_KIND')
  for (const bad of ['', 'x'.repeat(257), '\uD800lone', 42, null, undefined]) {
    assert.throws(() => sharding.entity(Recorder, bad as any), (e: any) => e.code === 'INVALID_ENTITY_ID', String(bad))
  }
  const Unnamed = defineActor({ initial: () => null, handlers: {} })
  const Spaced = defineActor({ name: 'has space', initial: () => null, handlers: {} })
  assert.throws(() => sharding.register(Spaced), (e: any) => e.code === 'INVALID_ARGUMENT')
  sharding.register(Unnamed)
  assert.throws(() => sharding.register(defineActor({ initial: () => 1, handlers: {} })), (e: any) => e.code === 'INVALID_ARGUMENT')
  // A kind registered on a but not on the owner of the entity: a typed error from the owner.
  const Partial = defineActor({ name: 'partial', initial: () => null, handlers: { hi: () => 'hi' } })
  sharding.register(Partial)
  const table = Allocation.compute(NODES, 1024)
  const idOnB = Array.from({ length: 100 }, (_, i) => `p${i}`).find((x) => table.ownerOf(sharding.shardOf(x)) === 'b')!
  const idOnA = Array.from({ length: 100 }, (_, i) => `p${i}`).find((x) => table.ownerOf(sharding.shardOf(x)) === 'a')!
  const dead: string[] = []
  cluster.node('b').system.events.on('deadLetter', (d) => dead.push(d.reason))
  await rejectsWith(sharding.entity(Partial, idOnB).ask('hi'), 'UNKNOWN_ENTITY_KIND')
  assert.ok(dead.includes('unknown-entity-kind'))
  assert.is(await sharding.entity(Partial, idOnA).ask('hi'), 'hi')
  // Unknown message types are the entity's usual UNKNOWN_MESSAGE.
  await rejectsWith((sharding.entity(Recorder, 'r') as ActorRef<any>).ask('nope'), 'UNKNOWN_MESSAGE')
  // A malformed route from the wire is rejected and the region keeps serving.
  const region = cluster.node('b').system.remoteRef('a', '/system/sharding')
  await rejectsWith(region.ask('route', ['recorder', '', 'add', 1, 0, 100]), 'INVALID_ENTITY_ID')
  await rejectsWith(region.ask('route', 'garbage'), 'INVALID_ENTITY_ID')
  region.tell('status', { node: 'b', members: 'x' })
  region.tell('bogus', 1)
  await settle()
  assert.is(await sharding.entity(Recorder, 'r').ask('add', 3), 3)
  const other = cluster.node('b').system
  assert.throws(() => Sharding.start(other, new FakeView('zz', ['zz'])), (e: any) => e.code === 'INVALID_ARGUMENT')
  const lone = new ActorSystem({ name: 'lone' })
  for (const bad of [{ shards: 0 }, { shards: 1.5 }, { passivateAfterMs: -1 }, { handoffTimeoutMs: 0 }, { maxBufferedMessages: -1 }]) {
    assert.throws(() => Sharding.start(lone, new FakeView('lone', ['lone']), bad), (e: any) => e.code === 'INVALID_ARGUMENT', JSON.stringify(bad))
  }
  await lone.terminate()
  await cluster.terminate()
})

test('a single node works without peers; stop() turns held messages into dead letters', async () => {
  const tracker = new ActivationTracker()
  const Recorder = recorderKind(tracker)
  const system = new ActorSystem({ name: 'solo' })
  const sharding = Sharding.start(system, new FakeView('solo', ['solo']))
  sharding.register(Recorder)
  assert.is(await sharding.entity(Recorder, 'x').ask('add', 2), 2)
  assert.is(tracker.activeOn('solo'), 1)
  await sharding.stop()
  assert.is(tracker.activeOn('solo'), 0)
  await rejectsWith(sharding.entity(Recorder, 'x').ask('get'), 'ACTOR_STOPPED')
  await system.terminate()
})

test.run()
