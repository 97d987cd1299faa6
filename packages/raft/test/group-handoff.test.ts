import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { transferLeadershipAway } from '../src/index.js'
import type { RaftGroup } from '../src/index.js'
import { Cluster, Kv } from './group-harness.js'

const members = ['a', 'b', 'c']

async function leaders(c: Cluster, groups: Map<string, Map<string, RaftGroup<any, any, any, any>>>): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>()
  for (const [id, handles] of groups) out.set(id, await c.leaderOf(handles))
  return out
}

test('transferLeadershipAway: every group led on the node moves to another voter; puts keep succeeding', async () => {
  const c = new Cluster(7)
  await c.start(members)
  const groups = new Map<string, Map<string, RaftGroup<any, any, any, any>>>()
  for (let i = 0; i < 6; i++) groups.set(`g${i}`, await c.open({ id: `g${i}`, members, stateMachine: () => new Kv() }))
  for (const handles of groups.values()) await c.waitForLeader(handles)
  // Make node a lead every group (so the test covers many transfers at once).
  for (const handles of groups.values()) {
    const leader = (await c.leaderOf(handles))!
    if (leader !== 'a') await c.settle(handles.get(leader)!.transferLeadership('a'))
  }
  for (const [id, leader] of await leaders(c, groups)) assert.is(leader, 'a', id)
  for (const handles of groups.values()) await c.settle(handles.get('b')!.propose({ op: 'put', key: 'k', value: 1 }))

  const result = await c.settle(transferLeadershipAway(c.system('a'), { timeoutMs: 3000 }))
  assert.is(result.moved.length, 6, JSON.stringify(result))
  assert.equal(result.failed, [])
  assert.equal(result.kept, [])
  for (const m of result.moved) assert.ok(m.to === 'b' || m.to === 'c', m.to)
  for (const [id, leader] of await leaders(c, groups)) assert.ok(leader !== 'a' && leader !== null, `${id} led by ${leader}`)
  // Writes through every node keep working, also through the node that handed off.
  for (const handles of groups.values()) {
    for (const node of members) assert.is(await c.settle(handles.get(node)!.propose({ op: 'add', key: node, n: 1 })), 1)
  }
  // Nothing led here now: a second call has nothing to do.
  assert.equal(await c.settle(transferLeadershipAway(c.system('a'))), { moved: [], kept: [], failed: [] })
  await c.stopAll()
})

test('transferLeadershipAway leaves a group with no other voter, and reports a transfer that cannot finish', async () => {
  const c = new Cluster(11)
  await c.start(members)
  const solo = await c.open({ id: 'solo', members: ['a'], stateMachine: () => new Kv() }, ['a'])
  const shared = await c.open({ id: 'shared', members, stateMachine: () => new Kv() })
  await c.waitForLeader(solo)
  await c.waitForLeader(shared)
  const leader = (await c.leaderOf(shared))!
  if (leader !== 'a') await c.settle(shared.get(leader)!.transferLeadership('a'))
  // Cut a off from the others: no transfer can complete.
  for (const other of ['b', 'c']) c.blocked.add(`a>${other}`)
  const result = await c.settle(transferLeadershipAway(c.system('a'), { timeoutMs: 300 }))
  assert.equal(result.kept, ['solo'])
  assert.equal(result.moved, [])
  assert.is(result.failed.length, 1)
  assert.is(result.failed[0].group, 'shared')
  assert.is(result.failed[0].code, 'TIMEOUT')
  c.blocked.clear()
  // The solo group still serves.
  assert.is(await c.settle(solo.get('a')!.propose({ op: 'add', key: 'n', n: 1 })), 1)
  await c.stopAll()
})

test('transferLeadershipAway on a node without a Raft host resolves with nothing to do; a bad timeout is refused', async () => {
  const { ActorSystem } = await import('@troupe/runtime')
  const system = new ActorSystem({ name: 'x' })
  assert.equal(await transferLeadershipAway(system), { moved: [], kept: [], failed: [] })
  await system.terminate()
  const c = new Cluster(3)
  await c.start(['a'])
  const err = await c.settle(transferLeadershipAway(c.system('a'), { timeoutMs: 0 })).catch((e: any) => e)
  assert.is(err.code, 'INVALID_ARGUMENT')
  await c.stopAll()
})

test.run()
