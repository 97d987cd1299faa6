// Proposals a handle makes in one turn travel to its host as one message
// (propose-batcher.ts) and are forwarded as one; each stays its own log
// entry with its own reply and its own session seq.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { requestProblem } from '../src/group/host-protocol.js'
import { Cluster, Kv, type KvCommand } from './group-harness.js'

const members = ['a', 'b', 'c']

test('proposals of one turn through a follower: one forward instead of one each; every command its own entry, applied once, with its own result', async () => {
  const c = new Cluster(11)
  await c.start(members)
  const applied = new Map(members.map((m) => [m, { count: 0, log: [] as Array<{ index: number; command: KvCommand }> }]))
  const g = await c.open({ id: 'g', members, stateMachine: (node) => new Kv(applied.get(node)!) })
  const leader = await c.waitForLeader(g)
  const follower = members.find((m) => m !== leader)!
  const h = g.get(follower)!
  await c.settle(h.propose({ op: 'put', key: 'warm', value: 1 }))
  await c.run(100)

  // The same 50 commands, first one per turn, then all in one turn; frames counted over both runs' requests.
  const framesFor = async (oneTurn: boolean, key: string): Promise<{ frames: number; results: number[] }> => {
    const before = c.frames.frames
    const results: number[] = []
    if (oneTurn) {
      results.push(...(await c.settle(Promise.all(Array.from({ length: 50 }, () => h.propose({ op: 'add', key, n: 1 }) as Promise<number>)))))
    } else {
      for (let i = 0; i < 50; i++) results.push((await c.settle(h.propose({ op: 'add', key, n: 1 }))) as number)
    }
    return { frames: c.frames.frames - before, results }
  }
  const single = await framesFor(false, 'x')
  const batched = await framesFor(true, 'y')
  const expected = Array.from({ length: 50 }, (_, i) => i + 1)
  assert.equal(single.results, expected)
  // Each command got its own result: the sums 1..50, each once (in the order the leader proposed them).
  assert.equal([...batched.results].sort((p, q) => p - q), expected)
  console.log(`  frames for 50 proposals through a follower: one per turn ${single.frames}, all in one turn ${batched.frames}`)
  assert.ok(batched.frames * 5 < single.frames, `one turn: ${batched.frames} frames, one per turn: ${single.frames}`)
  await c.run(200)
  for (const m of members) {
    const ys = applied.get(m)!.log.filter((e) => (e.command as { key?: string }).key === 'y')
    assert.is(ys.length, 50, `${m} applied each of the 50 once`)
    assert.is(new Set(ys.map((e) => e.index)).size, 50, `${m}: 50 distinct entries`)
  }
  await c.stopAll()
})

test('a batch answers each item on its own: a failing command fails alone, an unencodable one is refused before it is sent', async () => {
  const c = new Cluster(12)
  await c.start(members)
  const g = await c.open({ id: 'g', members, stateMachine: () => new Kv() })
  const leader = await c.waitForLeader(g)
  const h = g.get(members.find((m) => m !== leader)!)!
  const outcome = (p: Promise<unknown>) => p.then((v) => ({ ok: v }), (e) => ({ err: e.code as string }))
  const all = Promise.all([
    outcome(h.propose({ op: 'add', key: 'x', n: 1 })),
    outcome(h.propose({ op: 'fail' })),
    outcome(h.propose({ op: 'put', key: 'f', value: () => 1 } as never)),
    outcome(h.propose({ op: 'add', key: 'x', n: 10 })),
  ])
  const [a, fail, bad, b] = await c.settle(all)
  assert.equal(fail, { err: 'COMMAND_FAILED' })
  assert.equal(bad, { err: 'INVALID_ARGUMENT' })
  // Items keep their order in the log.
  assert.equal(a, { ok: 1 })
  assert.equal(b, { ok: 11 })
  assert.is(await c.settle(h.read({ op: 'get', key: 'x' })), 11)
  await c.stopAll()
})

test('a batch in flight when the leader stops: every command applies exactly once after the retry', async () => {
  const c = new Cluster(13)
  await c.start(members)
  const applied = new Map(members.map((m) => [m, { count: 0, log: [] as Array<{ index: number; command: KvCommand }> }]))
  const g = await c.open({ id: 'g', members, stateMachine: (node) => new Kv(applied.get(node)!) })
  const leader = await c.waitForLeader(g)
  const survivor = members.find((m) => m !== leader)!
  const h = g.get(survivor)!
  const all = Promise.all(Array.from({ length: 20 }, (_, i) => h.propose({ op: 'put', key: `k${i}`, value: i })))
  await c.flush(1)
  await c.stopNode(leader)
  g.delete(leader)
  await c.settle(all, 20_000)
  // The stopped leader may have answered before the survivors heard the commit index (it travels
  // with the next append or heartbeat): they apply once the next leader commits, after an election.
  await c.run(2_000)
  for (const m of g.keys()) {
    const log = applied.get(m)!.log.filter((e) => String((e.command as { key?: string }).key).startsWith('k'))
    const keys = log.map((e) => (e.command as { key: string }).key)
    assert.is(new Set(keys).size, 20, `${m} applied all 20`)
    assert.is(keys.length, 20, `${m} applied none twice`)
  }
  await c.stopAll()
})

test('a malformed batch from the network is refused with the reason', () => {
  const base = { group: 'g', timeoutMs: 1000, forwarded: false }
  const item = { timeoutMs: 1000, clientId: 'c', seq: 1, ackedBelow: 0, established: true, command: 1 }
  assert.is(requestProblem('proposeBatch', { ...base, items: [item, item] }), null)
  assert.is(requestProblem('proposeBatch', { ...base, items: [] }), 'bad items')
  assert.is(requestProblem('proposeBatch', { ...base, items: 'x' }), 'bad items')
  assert.is(requestProblem('proposeBatch', { ...base, items: Array.from({ length: 257 }, () => item) }), 'bad items')
  assert.is(requestProblem('proposeBatch', { ...base, items: [item, null] }), 'bad item timeoutMs')
  assert.is(requestProblem('proposeBatch', { ...base, items: [{ ...item, timeoutMs: -1 }] }), 'bad item timeoutMs')
  assert.is(requestProblem('proposeBatch', { ...base, items: [{ ...item, seq: 1.5 }] }), 'bad item session')
  assert.is(requestProblem('proposeBatch', { ...base, items: [{ ...item, clientId: '' }] }), 'bad item session')
})

test.run()
