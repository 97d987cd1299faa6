import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ManualClock } from '@troupe/runtime'
import type { ActorRef, DeadLetter } from '@troupe/runtime'
import { Allocation } from '../src/sharding/index.js'
import { rejectsWith } from './helpers.js'
import { ActivationTracker, TestCluster, recorderKind, settle, until } from './sharding-helpers.js'

const THREE = ['a', 'b', 'c']
const FOUR = ['a', 'b', 'c', 'd']

/** Fails instead of hanging when a promise never settles (the manual clock never times asks out). */
function within<T>(p: Promise<T>, what: string, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not settle`)), ms)))]).finally(() => clearTimeout(timer))
}

async function advance(clock: ManualClock, ms: number, stepMs = 50): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    clock.advance(Math.min(stepMs, ms - t))
    await settle(3)
  }
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void
  const promise = new Promise<void>((r) => (open = r))
  return { promise, open }
}

function ownerOf(cluster: TestCluster, members: string[], id: string): string {
  return Allocation.compute(members, 1024).ownerOf(cluster.node(members[0]).sharding.shardOf(id))
}

function movingId(cluster: TestCluster, from: string): string {
  return Array.from({ length: 1000 }, (_, i) => `m${i}`).find((id) => ownerOf(cluster, THREE, id) === from && ownerOf(cluster, FOUR, id) === 'd')!
}

test('idle entities passivate after passivateAfterMs; the next message activates a fresh one', async () => {
  const tracker = new ActivationTracker()
  const Recorder = recorderKind(tracker)
  const clock = new ManualClock(1_000_000)
  const cluster = await TestCluster.start(['a', 'b'], [Recorder], { clock, passivateAfterMs: 1000, tickMs: 100 })
  const ids = Array.from({ length: 10 }, (_, i) => `p${i}`)
  const ref = (id: string) => cluster.node('a').sharding.entity(Recorder, id)
  await within(Promise.all(ids.map((id) => ref(id).ask('add', 1))), 'first asks')
  await advance(clock, 600)
  const touched = ids.slice(0, 5)
  await within(Promise.all(touched.map((id) => ref(id).ask('add', 1))), 'touch')
  await advance(clock, 600)
  for (const id of ids) assert.is(tracker.where(id).length, touched.includes(id) ? 1 : 0, id)
  await advance(clock, 600)
  assert.is(tracker.active.size, 0)
  const passivations = ['a', 'b'].reduce((n, name) => n + cluster.node(name).sharding.stats().passivations, 0)
  assert.is(passivations, 10)
  assert.is(await within(ref('p0').ask('add', 1), 'reactivation'), 1)
  assert.is(tracker.where('p0').length, 1)
  await cluster.terminate()
})

test('a message that arrives while its entity passivates waits and starts the next incarnation', async () => {
  const tracker = new ActivationTracker()
  const Recorder = recorderKind(tracker)
  const clock = new ManualClock(1_000_000)
  const cluster = await TestCluster.start(['a', 'b'], [Recorder], { clock, passivateAfterMs: 1000, tickMs: 100 })
  const id = 'busy'
  const owner = cluster.node(ownerOf(cluster, ['a', 'b'], id))
  const ref = owner.sharding.entity(Recorder, id)
  assert.is(await within(ref.ask('add', 1), 'activate'), 1)
  const g = gate()
  ref.tell('slow', { gate: g.promise })
  await advance(clock, 1200)
  // Passivation is requested behind the slow message; what comes now must not be lost.
  const next = ref.ask('add', 5)
  await settle()
  assert.is(owner.sharding.stats().buffered, 1)
  g.open()
  assert.is(await within(next, 'buffered ask'), 5)
  assert.is(tracker.activations.get(owner.name), 2)
  assert.equal(tracker.doubles, [])
  await cluster.terminate()
})

test('buffer overflow during a handoff: the excess becomes dead letters with a reason, asks get SHARD_BUFFER_FULL, the rest arrives', async () => {
  const tracker = new ActivationTracker()
  const Recorder = recorderKind(tracker)
  const cluster = await TestCluster.start(THREE, [Recorder], { maxBufferedMessages: 5 })
  const id = movingId(cluster, 'a')
  const onA = cluster.node('a').sharding.entity(Recorder, id)
  assert.is(await onA.ask('add', 1), 1)
  const g = gate()
  onA.tell('slow', { gate: g.promise })
  await cluster.add('d', FOUR)
  cluster.setViews(FOUR, THREE)
  await settle(20)
  // a's entity is stuck behind the slow message, so d waits for a to release the shard.
  const dead: DeadLetter[] = []
  cluster.node('d').system.events.on('deadLetter', (d) => dead.push(d))
  const onD = cluster.node('d').sharding.entity(Recorder, id)
  const asks = Array.from({ length: 8 }, () => onD.ask('add', 1))
  onD.tell('add', 100)
  const settled = asks.map((p) => p.then((v) => ({ ok: true as const, v }), (e) => ({ ok: false as const, code: e.code as string })))
  await until(() => dead.length === 4, 'overflow dead letters')
  assert.ok(dead.every((d) => d.reason === 'shard-buffer-full' && d.recipient === `/entity/recorder/${id}`), JSON.stringify(dead.map((d) => d.reason)))
  assert.is(cluster.node('d').sharding.stats().buffered, 5)
  g.open()
  const results = await Promise.all(settled)
  assert.equal(results.filter((r) => r.ok).map((r) => (r as { v: number }).v), [1, 2, 3, 4, 5])
  assert.equal(results.filter((r) => !r.ok).map((r) => (r as { code: string }).code), ['SHARD_BUFFER_FULL', 'SHARD_BUFFER_FULL', 'SHARD_BUFFER_FULL'])
  assert.equal(tracker.where(id), ['d'])
  assert.equal(tracker.doubles, [])
  await cluster.terminate()
})

test('an entity that does not drain its mailbox within handoffTimeoutMs is stopped after its current message; the shard moves on', async () => {
  const tracker = new ActivationTracker()
  const Recorder = recorderKind(tracker)
  const clock = new ManualClock(1_000_000)
  const cluster = await TestCluster.start(THREE, [Recorder], { clock, handoffTimeoutMs: 1000, tickMs: 100, passivateAfterMs: 0 })
  const id = movingId(cluster, 'a')
  const onA = cluster.node('a').sharding.entity(Recorder, id)
  assert.is(await within(onA.ask('add', 1), 'activate'), 1)
  const g = gate()
  onA.tell('slow', { gate: g.promise })
  for (let seq = 1; seq <= 3; seq++) onA.tell('record', { from: 'a', seq })
  const dead: DeadLetter[] = []
  cluster.node('a').system.events.on('deadLetter', (d) => dead.push(d))
  await cluster.add('d', FOUR)
  cluster.setViews(FOUR, THREE)
  await advance(clock, 1200)
  const where = cluster.node('b').sharding.entity(Recorder, id).ask('where')
  g.open()
  assert.is(await within(where, 'ask after forced handoff'), 'd')
  assert.equal(dead.filter((d) => d.type === 'record').map((d) => d.reason), ['stopped', 'stopped', 'stopped'])
  assert.equal(tracker.handled, [])
  assert.equal(tracker.doubles, [])
  await cluster.terminate()
})

test('a shard whose owner is unknown (no members up) holds messages until there is one', async () => {
  const tracker = new ActivationTracker()
  const Recorder = recorderKind(tracker)
  const cluster = await TestCluster.start(['a'], [Recorder])
  cluster.node('a').view.set([])
  const ask = cluster.node('a').sharding.entity(Recorder, 'x').ask('add', 2)
  await settle()
  assert.is(cluster.node('a').sharding.stats().buffered, 1)
  cluster.node('a').view.set(['a'])
  assert.is(await ask, 2)
  await rejectsWith((cluster.node('a').sharding.entity(Recorder, 'y') as ActorRef<any>).ask('nope'), 'UNKNOWN_MESSAGE')
  await cluster.terminate()
})

test.run()
