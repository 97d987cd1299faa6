import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { raftHost, type HostStats, type RaftGroup } from '../src/index.js'
import { Cluster, Kv } from './group-harness.js'

const members = ['a', 'b', 'c']

async function openMany(c: Cluster, count: number): Promise<Array<Map<string, RaftGroup<any, any, any, any>>>> {
  const groups: Array<Map<string, RaftGroup<any, any, any, any>>> = []
  for (let i = 0; i < count; i++) groups.push(await c.open({ id: `g${i}`, members, stateMachine: () => new Kv() }))
  return groups
}

async function hostStats(c: Cluster): Promise<HostStats[]> {
  return c.settle(Promise.all(members.map((m) => raftHost(c.system(m)).ask('stats'))))
}

const sum = (xs: HostStats[], key: keyof HostStats) => xs.reduce((n, s) => n + (s[key] as number), 0)

test('100 groups on 3 nodes all elect a leader and commit writes sent through every node; messages share remote tells', async () => {
  const c = new Cluster(21)
  await c.start(members)
  const groups = await openMany(c, 100)
  const leaders = new Map<string, number>()
  for (const g of groups) {
    const l = await c.waitForLeader(g)
    leaders.set(l, (leaders.get(l) ?? 0) + 1)
  }
  console.log(`  leaders per node: ${JSON.stringify(Object.fromEntries(leaders))}`)
  const before = await hostStats(c)
  const writes: Promise<unknown>[] = []
  for (const [i, g] of groups.entries()) for (const node of members) writes.push(g.get(node)!.propose({ op: 'add', key: 'n', n: i + 1 }))
  const started = c.clock.now()
  const results = await c.settle(Promise.all(writes), 20_000)
  const after = await hostStats(c)
  const messages = sum(after, 'messagesSent') - sum(before, 'messagesSent')
  const tells = sum(after, 'batchesSent') - sum(before, 'batchesSent')
  console.log(`  300 writes over 100 groups at once: committed after ${c.clock.now() - started} virtual ms; ${messages} raft messages in ${tells} remote tells, ${sum(after, 'syncs') - sum(before, 'syncs')} storage syncs`)
  assert.is(results.length, 300)
  for (const [i, g] of groups.entries()) assert.is(await c.settle(g.get('b')!.read({ op: 'get', key: 'n' })), 3 * (i + 1), `group ${i}`)
  assert.ok(tells < messages / 5, 'messages of many groups share remote tells')
  await c.stopAll()
})

test('bounded work per turn: with 4 Readies per host turn, 50 busy groups still all make progress', async () => {
  const c = new Cluster(25, { maxReadiesPerTurn: 4 })
  await c.start(members)
  const groups = await openMany(c, 50)
  const writes = groups.flatMap((g, i) => members.map((node) => g.get(node)!.propose({ op: 'add', key: 'n', n: i })))
  const results = await c.settle(Promise.all(writes), 20_000)
  assert.is(results.length, 150)
  for (const [i, g] of groups.entries()) assert.is(await c.settle(g.get('a')!.read({ op: 'get', key: 'n' })), 3 * i)
  await c.stopAll()
})

test('1,000 idle groups on 3 nodes quiesce: no group ticks and only per-node liveness pings travel', async () => {
  const c = new Cluster(22)
  await c.start(members)
  const groups = await openMany(c, 1000)
  // One write per group, so each has a leader and a committed entry of its term.
  await c.settle(Promise.all(groups.map((g, i) => g.get(members[i % 3]!)!.propose({ op: 'add', key: 'n', n: 1 }))), 30_000, 10)
  await c.run(3000, 10)
  const before = await hostStats(c)
  const framesBefore = c.frames.frames
  const idleMs = 10_000
  await c.run(idleMs, 25)
  const after = await hostStats(c)
  const perSecond = (key: keyof HostStats) => ((sum(after, key) - sum(before, key)) * 1000) / idleMs
  const frames = ((c.frames.frames - framesBefore) * 1000) / idleMs
  console.log(
    `  1,000 idle groups x 3 nodes: ${sum(after, 'quiesced')} of 3,000 replicas quiesced; per second: ${perSecond('messagesSent').toFixed(1)} raft messages, ` +
      `${perSecond('batchesSent').toFixed(1)} remote tells (${perSecond('pingsSent').toFixed(1)} pings), ${frames.toFixed(1)} frames, ${perSecond('groupTicks').toFixed(1)} group ticks`,
  )
  assert.is(sum(after, 'quiesced'), 3000)
  assert.is(perSecond('messagesSent'), 0)
  assert.is(perSecond('groupTicks'), 0)
  // Pings: at most one per ordered node pair per livenessIntervalMs (500 ms), whatever the number of groups.
  assert.ok(perSecond('batchesSent') <= 6 * 2 + 1, `${perSecond('batchesSent')} remote tells per second`)
  // Still a working cluster: a write wakes its group, and it commits.
  assert.is(await c.settle(groups[500]!.get('c')!.propose({ op: 'add', key: 'n', n: 1 })), 2)
  await c.stopAll()
})

test('a quiesced group whose leader node dies elects a new leader once the liveness timeout passes', async () => {
  const c = new Cluster(23)
  await c.start(members)
  const g = await c.open({ id: 'g', members, stateMachine: () => new Kv() })
  const leader = await c.waitForLeader(g)
  await c.settle(g.get(leader)!.propose({ op: 'add', key: 'n', n: 1 }))
  assert.ok(await c.until(async () => (await Promise.all(members.map((m) => g.get(m)!.status()))).every((s) => s!.quiesced), 5000), 'quiesced')
  await c.stopNode(leader)
  g.delete(leader)
  const started = c.clock.now()
  const survivor = members.find((m) => m !== leader)!
  assert.is(await c.settle(g.get(survivor)!.propose({ op: 'add', key: 'n', n: 1 }), 10_000), 2)
  console.log(`  quiesced group: first write after its leader stopped, ${c.clock.now() - started} virtual ms`)
  assert.is.not(await c.waitForLeader(g), leader)
  await c.stopAll()
})

test('without quiescence the same idle groups keep heartbeating (the figure quiescence saves)', async () => {
  const c = new Cluster(24, { quiesceAfterTicks: 0 })
  await c.start(members)
  const groups = await openMany(c, 200)
  await c.settle(Promise.all(groups.map((g, i) => g.get(members[i % 3]!)!.propose({ op: 'add', key: 'n', n: 1 }))), 30_000, 10)
  const before = await hostStats(c)
  await c.run(2000, 25)
  const after = await hostStats(c)
  const msgs = ((sum(after, 'messagesSent') - sum(before, 'messagesSent')) * 1000) / 2000
  const tells = ((sum(after, 'batchesSent') - sum(before, 'batchesSent')) * 1000) / 2000
  console.log(`  200 idle groups, quiescence off: ${msgs.toFixed(0)} raft messages/s in ${tells.toFixed(0)} remote tells/s (about ${(msgs * 5).toFixed(0)}/s for 1,000 groups)`)
  assert.ok(msgs > 1000)
  await c.stopAll()
})

test.run()
