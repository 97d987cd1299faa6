import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { group } from '../src/index.js'
import { Cluster, Kv } from './group-harness.js'

const members = ['a', 'b', 'c']

test('membership: a new node joins as a learner through a snapshot, is promoted, takes over leadership; the old leader is removed', async () => {
  const c = new Cluster(31)
  await c.start([...members, 'd'])
  const opts = { id: 'g', members, stateMachine: () => new Kv(), snapshotEveryEntries: 5 }
  const g = await c.open(opts)
  const leader = await c.waitForLeader(g)
  const h = g.get(leader)!
  for (let i = 0; i < 20; i++) await c.settle(h.propose({ op: 'add', key: 'n', n: 1 }))
  // d is not among the founding members, so it starts empty and waits to be added.
  const d = (await c.open(opts, ['d'])).get('d')!
  g.set('d', d)
  assert.is((await c.settle(d.status()))!.applied, 0)
  await c.settle(h.addLearner('d'))
  assert.ok(await c.until(async () => (await d.status())!.applied >= 21, 5000), 'the learner caught up')
  const st = (await c.settle(d.status()))!
  assert.ok(st.snapshotsInstalled >= 1, 'the learner got the log compacted into a snapshot')
  assert.equal(st.config.learners, ['d'])
  assert.is(await c.settle(d.read({ op: 'get', key: 'n' })), 20)
  await c.settle(g.get('b')!.addVoter('d'))
  await c.settle(g.get('b')!.addVoter('d')) // a retry of a change that took effect succeeds
  assert.equal((await c.settle(d.status()))!.config.voters, ['a', 'b', 'c', 'd'])
  await c.settle(g.get('c')!.transferLeadership('d'))
  assert.is(await c.leaderOf(g), 'd')
  await c.settle(d.removeNode('a'))
  assert.ok(await c.until(async () => (await g.get('b')!.status())!.config.voters.join() === 'b,c,d', 2000))
  assert.is(await c.settle(g.get('b')!.propose({ op: 'add', key: 'n', n: 1 })), 21)
  assert.is(await c.settle(g.get('c')!.read({ op: 'get', key: 'n' })), 21)
  await c.settle(g.get('b')!.removeNode('zzz')) // already not a member: nothing to do
  const bad = await c.settle(g.get('b')!.addLearner('c')).catch((e) => e)
  assert.is(bad.code, 'CONF_CHANGE_REJECTED')
  const badTransfer = await c.settle(g.get('b')!.transferLeadership('zzz')).catch((e) => e)
  assert.is(badTransfer.code, 'TRANSFER_REJECTED')
  await c.stopAll()
})

test('removing the leader: it hands over and the group goes on', async () => {
  const c = new Cluster(32)
  await c.start(members)
  const g = await c.open({ id: 'g', members, stateMachine: () => new Kv() })
  const leader = await c.waitForLeader(g)
  await c.settle(g.get(leader)!.propose({ op: 'add', key: 'n', n: 1 }))
  const other = members.find((m) => m !== leader)!
  await c.settle(g.get(other)!.removeNode(leader))
  g.delete(leader)
  const next = await c.waitForLeader(g)
  assert.is.not(next, leader)
  assert.is(await c.settle(g.get(other)!.propose({ op: 'add', key: 'n', n: 1 })), 2)
  await c.stopAll()
})

test('a node outside the group reaches it through a proxy handle (no state machine, no storage)', async () => {
  const c = new Cluster(33)
  await c.start([...members, 'client'])
  const g = await c.open({ id: 'g', members, stateMachine: () => new Kv() })
  await c.waitForLeader(g)
  const proxy = await c.settle(group<Kv>(c.system('client'), { id: 'g', members }))
  assert.is(await c.settle(proxy.propose({ op: 'add', key: 'n', n: 4 })), 4)
  assert.is(await c.settle(proxy.read({ op: 'get', key: 'n' })), 4)
  const st = (await c.settle(proxy.status()))!
  assert.is(st.role, 'proxy')
  const leader = await c.leaderOf(g)
  assert.is(st.leader, leader, 'the proxy learned the leader from an answer')
  // The leader dies: the proxy must not stick to it.
  await c.stopNode(leader!)
  g.delete(leader!)
  assert.is(await c.settle(proxy.propose({ op: 'add', key: 'n', n: 1 }), 10_000), 5)
  assert.is.not((await c.settle(proxy.status()))!.leader, leader)
  await c.stopAll()
})

test.run()
