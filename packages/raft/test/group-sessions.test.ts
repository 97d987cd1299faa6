import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { raftHost } from '../src/index.js'
import { Cluster, Kv } from './group-harness.js'

const members = ['a', 'b', 'c']

function counted() {
  const counts = new Map<string, { count: number }>()
  return { counts, stateMachine: (node: string) => new Kv(counts.set(node, { count: 0 }).get(node)) }
}

test('the same (clientId, seq) proposed twice applies once; both get the first result; a late copy below ackedBelow is refused', async () => {
  const c = new Cluster(11)
  await c.start(members)
  const { counts, stateMachine } = counted()
  const g = await c.open({ id: 'g', members, stateMachine })
  const leader = await c.waitForLeader(g)
  const host = raftHost(c.system(leader))
  const req = (seq: number, ackedBelow: number, n: number) => ({
    group: 'g', timeoutMs: 2000, forwarded: false, clientId: 'client-1', seq, ackedBelow, established: seq > 1, command: { op: 'add', key: 'x', n },
  })
  const value = (r: { ok: boolean; value?: unknown }) => (r.ok ? r.value : r)
  const first = await c.settle(host.ask('propose', req(1, 1, 10)))
  const again = await c.settle(host.ask('propose', req(1, 1, 10)))
  assert.is(value(first), 10)
  assert.is(value(again), 10)
  assert.is(value(await c.settle(host.ask('propose', req(2, 2, 5)))), 15)
  // seq 1 again, after the client said it has every answer below 2: a stale duplicate, not applied.
  const late = await c.settle(host.ask('propose', req(1, 1, 10)))
  assert.is(late.ok, false)
  await c.run(300)
  for (const node of members) assert.is(counts.get(node)!.count, 2, `${node} applied 2 commands`)
  assert.is(await c.settle(g.get('a')!.read({ op: 'get', key: 'x' })), 15)
  await c.stopAll()
})

test('a reply lost on the way back: the handle retries with the same session and the command applies once', async () => {
  const c = new Cluster(12)
  await c.start(members)
  const { counts, stateMachine } = counted()
  const g = await c.open({ id: 'g', members, stateMachine, attemptTimeoutMs: 300, requestTimeoutMs: 10_000 })
  const leader = await c.waitForLeader(g)
  const follower = members.find((m) => m !== leader)!
  await c.settle(g.get(follower)!.propose({ op: 'add', key: 'x', n: 1 }))
  // The leader's answers to the follower are lost, but the follower's requests reach it.
  c.blocked.add(`${leader}>${follower}`)
  const pending = g.get(follower)!.propose({ op: 'add', key: 'x', n: 100 })
  await c.run(1000)
  c.blocked.clear()
  assert.is(await c.settle(pending), 101)
  await c.run(300)
  for (const node of members) assert.is(counts.get(node)!.count, 2, `${node} applied the retried command once`)
  await c.stopAll()
})

test('a retry across a leader change applies once', async () => {
  const c = new Cluster(13)
  await c.start(members)
  const { counts, stateMachine } = counted()
  const g = await c.open({ id: 'g', members, stateMachine, attemptTimeoutMs: 300, requestTimeoutMs: 10_000 })
  const leader = await c.waitForLeader(g)
  const before = (await c.settle(g.get(leader)!.status()))!.lastIndex
  // The leader replicates the command but never hears the acknowledgements: it cannot commit it, steps
  // down, and a new leader commits it. The client (on the old leader's node) is told to retry, and does.
  for (const m of members) if (m !== leader) c.blocked.add(`${m}>${leader}`)
  const pending = g.get(leader)!.propose({ op: 'add', key: 'x', n: 7 })
  await c.run(2500)
  c.blocked.clear()
  assert.is(await c.settle(pending), 7)
  await c.run(500)
  const other = members.find((m) => m !== leader)!
  const st = (await c.settle(g.get(other)!.status()))!
  assert.ok(st.lastIndex >= before + 3, `the command was appended again by a retry (last index ${st.lastIndex})`)
  for (const node of members) assert.is(counts.get(node)!.count, 1, `${node} applied it once`)
  await c.stopAll()
})

test('sessions expire by log time: a client silent longer than sessionTtlMs gets SESSION_EXPIRED, not a second apply', async () => {
  const c = new Cluster(14)
  await c.start(members)
  const g = await c.open({ id: 'g', members, stateMachine: () => new Kv(), sessionTtlMs: 1000 })
  const leader = await c.waitForLeader(g)
  const idle = g.get(leader)!
  assert.is(await c.settle(idle.propose({ op: 'add', key: 'x', n: 1 })), 1)
  // Another client keeps writing: the log's time (the leader's clock in each entry) moves on.
  const other = (await c.open({ id: 'g2', members: ['a'], stateMachine: () => new Kv() }, ['a'])).get('a')!
  await c.waitForLeader(new Map([['a', other]]))
  const busy = g.get(members.find((m) => m !== leader)!)!
  await c.run(2000)
  assert.is(await c.settle(busy.propose({ op: 'add', key: 'y', n: 1 })), 1)
  const err = await c.settle(idle.propose({ op: 'add', key: 'x', n: 1 })).catch((e) => e)
  assert.is(err.code, 'SESSION_EXPIRED')
  assert.is(await c.settle(busy.read({ op: 'get', key: 'x' })), 1)
  // The handle opened a new session: it can write again.
  assert.is(await c.settle(idle.propose({ op: 'add', key: 'x', n: 1 })), 2)
  await c.stopAll()
})

test.run()
