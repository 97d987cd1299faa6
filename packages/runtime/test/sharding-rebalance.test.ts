import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Allocation } from '../src/sharding/index.js'
import { ActivationTracker, TestCluster, recorderKind, settle, until } from './sharding-helpers.js'

const THREE = ['a', 'b', 'c']
const FOUR = ['a', 'b', 'c', 'd']
const ids = Array.from({ length: 1000 }, (_, i) => `user-${i}`)
const before = Allocation.compute(THREE, 1024)
const after = Allocation.compute(FOUR, 1024)

/** The first id whose shard moves from `from` to d when d joins. */
function movingId(cluster: TestCluster, from: string): string {
  const sharding = cluster.node('a').sharding
  return ids.find((id) => before.ownerOf(sharding.shardOf(id)) === from && after.ownerOf(sharding.shardOf(id)) === 'd')!
}

const permutations = [
  ['a', 'b', 'c'],
  ['a', 'c', 'b'],
  ['b', 'a', 'c'],
  ['b', 'c', 'a'],
  ['c', 'a', 'b'],
  ['c', 'b', 'a'],
]

for (const order of permutations) {
  test(`a 4th node joins (views change in order d,${order}): shards move to it, nothing is lost or reordered, never two activations`, async () => {
    const tracker = new ActivationTracker()
    const Recorder = recorderKind(tracker)
    const cluster = await TestCluster.start(THREE, [Recorder])
    await Promise.all(ids.map((id) => cluster.node('a').sharding.entity(Recorder, id).ask('add', 1)))
    const target = movingId(cluster, 'a')
    // One sender on every node streams to the moving entity while views change one by one.
    const senders = [...THREE, 'd']
    const perSender = 120
    let sent = 0
    const send = (from: string, seq: number) => cluster.node(from).sharding.entity(Recorder, target).tell('record', { from, seq })
    for (let seq = 1; seq <= perSender; seq++) {
      for (const from of senders) if (cluster.nodes.has(from)) send(from, seq), sent++
      if (seq === 20) await cluster.add('d', FOUR)
      if (seq === 42) cluster.node(order[0]).view.set(FOUR)
      if (seq === 62) cluster.node(order[1]).view.set(FOUR)
      if (seq === 82) cluster.node(order[2]).view.set(FOUR)
      if (seq % 5 === 0) await settle(1)
    }
    await until(() => tracker.handled.length === sent, `${sent} messages handled (got ${tracker.handled.length})`)
    await settle()
    assert.is(tracker.handled.length, sent)
    for (const from of senders) {
      const seqs = tracker.handled.filter((h) => h.from === from).map((h) => h.seq)
      const first = from === 'd' ? 21 : 1
      assert.equal(seqs, Array.from({ length: perSender - first + 1 }, (_, i) => first + i), `order of messages from ${from}`)
    }
    // Handled on the old owner, then on d, never back.
    const nodes = tracker.handled.map((h) => h.node)
    const switchAt = nodes.indexOf('d')
    assert.ok(switchAt > 0 && nodes.slice(0, switchAt).every((n) => n === 'a') && nodes.slice(switchAt).every((n) => n === 'd'), `handled on ${[...new Set(nodes)]}`)
    // Every entity is reachable from every node, each on its new owner only.
    for (const from of FOUR) {
      const where = await Promise.all(ids.map((id) => cluster.node(from).sharding.entity(Recorder, id).ask('where')))
      const sharding = cluster.node(from).sharding
      ids.forEach((id, i) => assert.is(where[i], after.ownerOf(sharding.shardOf(id)), id))
    }
    for (const id of ids) assert.equal(tracker.where(id), [after.ownerOf(cluster.node('a').sharding.shardOf(id))], id)
    assert.equal(tracker.doubles, [])
    const moved = ids.filter((id) => before.ownerOf(cluster.node('a').sharding.shardOf(id)) !== after.ownerOf(cluster.node('a').sharding.shardOf(id))).length
    assert.is(tracker.activeOn('d'), moved)
    assert.ok(moved > 150 && moved < 350, `moved ${moved} of 1000`)
    const buffered = FOUR.map((n) => cluster.node(n).sharding.stats().buffered)
    assert.equal(buffered, [0, 0, 0, 0])
    await cluster.terminate()
  })
}

test('a node crashes: its entities reactivate on the new owners on the next message; the others stay put', async () => {
  const tracker = new ActivationTracker()
  const Recorder = recorderKind(tracker)
  const cluster = await TestCluster.start(FOUR, [Recorder])
  await Promise.all(ids.map((id) => cluster.node('b').sharding.entity(Recorder, id).ask('add', 1)))
  const sharding = cluster.node('a').sharding
  const onC = ids.filter((id) => tracker.where(id)[0] === 'c')
  assert.ok(onC.length > 150, `${onC.length} on c`)
  const activationsBefore = tracker.activations.get('a')! + tracker.activations.get('b')! + tracker.activations.get('d')!
  cluster.crash('c')
  const survivors = ['a', 'b', 'd']
  cluster.setViews(survivors)
  const afterCrash = Allocation.compute(survivors, 1024)
  const counts = await Promise.all(ids.map((id, i) => cluster.node(survivors[i % 3]).sharding.entity(Recorder, id).ask('add', 1)))
  ids.forEach((id, i) => {
    // Entities that lived on c start afresh (their state was c's); the others kept theirs.
    assert.is(counts[i], onC.includes(id) ? 1 : 2, id)
    assert.equal(tracker.where(id, ['c']), [afterCrash.ownerOf(sharding.shardOf(id))], id)
  })
  const activationsAfter = tracker.activations.get('a')! + tracker.activations.get('b')! + tracker.activations.get('d')!
  assert.is(activationsAfter - activationsBefore, onC.length)
  await cluster.terminate()
})

test('views that disagree never make two activations; they converge once the views agree', async () => {
  const tracker = new ActivationTracker()
  const Recorder = recorderKind(tracker)
  const cluster = await TestCluster.start(THREE, [Recorder])
  await Promise.all(ids.map((id) => cluster.node('a').sharding.entity(Recorder, id).ask('add', 1)))
  await cluster.add('d', FOUR)
  // Only d sees four members: the old owners still own everything, d must not activate anything.
  await Promise.all(ids.slice(0, 200).map((id) => cluster.node('a').sharding.entity(Recorder, id).ask('add', 1)))
  const asked = ids.slice(0, 200).map((id) => cluster.node('d').sharding.entity(Recorder, id).ask('where'))
  await settle(20)
  assert.is(tracker.activeOn('d'), 0)
  assert.equal(tracker.doubles, [])
  cluster.setViews(FOUR, ['b', 'c', 'a'])
  const where = await Promise.all(asked)
  const sharding = cluster.node('a').sharding
  ids.slice(0, 200).forEach((id, i) => assert.is(where[i], after.ownerOf(sharding.shardOf(id)), id))
  assert.equal(tracker.doubles, [])
  await cluster.terminate()
})

test('a node whose own view drops it stops its entities and forwards what it still gets to the new owners', async () => {
  const tracker = new ActivationTracker()
  const Recorder = recorderKind(tracker)
  const cluster = await TestCluster.start(THREE, [Recorder])
  await Promise.all(ids.map((id) => cluster.node('c').sharding.entity(Recorder, id).ask('add', 1)))
  const onC = ids.filter((id) => tracker.where(id)[0] === 'c')
  cluster.setViews(['a', 'b'], ['a', 'b', 'c'])
  await until(() => tracker.activeOn('c') === 0, 'c stops its entities')
  const two = Allocation.compute(['a', 'b'], 1024)
  const sharding = cluster.node('a').sharding
  const where = await Promise.all(onC.map((id) => cluster.node('c').sharding.entity(Recorder, id).ask('where')))
  onC.forEach((id, i) => assert.is(where[i], two.ownerOf(sharding.shardOf(id)), id))
  assert.is(cluster.node('c').sharding.stats().entities, 0)
  assert.equal(tracker.doubles, [])
  await cluster.terminate()
})

test('graceful leave (the leaving node sees it first): its entities hand off with nothing lost or reordered and never two activations', async () => {
  const tracker = new ActivationTracker()
  const Recorder = recorderKind(tracker)
  const cluster = await TestCluster.start(THREE, [Recorder])
  await Promise.all(ids.map((id) => cluster.node('a').sharding.entity(Recorder, id).ask('add', 1)))
  const target = ids.find((id) => tracker.where(id)[0] === 'c')!
  const two = Allocation.compute(['a', 'b'], 1024)
  const heir = two.ownerOf(cluster.node('a').sharding.shardOf(target))
  let sent = 0
  for (let seq = 1; seq <= 90; seq++) {
    for (const from of THREE) cluster.node(from).sharding.entity(Recorder, target).tell('record', { from, seq }), sent++
    // c leaves: its own view drops it first, then the others' views follow.
    if (seq === 22) cluster.node('c').view.set(['a', 'b'])
    if (seq === 42) cluster.node(heir === 'a' ? 'b' : 'a').view.set(['a', 'b'])
    if (seq === 62) cluster.node(heir).view.set(['a', 'b'])
    if (seq % 5 === 0) await settle(1)
  }
  await until(() => tracker.handled.length === sent, `${sent} handled (got ${tracker.handled.length})`)
  for (const from of THREE) {
    assert.equal(tracker.handled.filter((h) => h.from === from).map((h) => h.seq), Array.from({ length: 90 }, (_, i) => i + 1), `order from ${from}`)
  }
  const nodes = tracker.handled.map((h) => h.node)
  const switchAt = nodes.indexOf(heir)
  assert.ok(switchAt > 0 && nodes.slice(0, switchAt).every((n) => n === 'c') && nodes.slice(switchAt).every((n) => n === heir), `handled on ${[...new Set(nodes)]}`)
  assert.equal(tracker.doubles, [])
  assert.is(tracker.activeOn('c'), 0)
  await cluster.terminate()
})

test.run()
