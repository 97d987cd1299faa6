import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MemoryLogStorage, type Entry, type HardState, type LogStorage, type PersistedState, type RaftGroup, type Snapshot } from '../src/index.js'
import { Cluster, Kv } from './group-harness.js'

/** A memory store whose syncs can be made to fail, like a disk that returns EIO. */
class FailingStorage implements LogStorage {
  readonly inner = new MemoryLogStorage()
  failing = false
  load(): Promise<PersistedState> {
    return this.inner.load()
  }
  append(entries: Entry[]): void {
    this.inner.append(entries)
  }
  setHardState(state: HardState): void {
    this.inner.setHardState(state)
  }
  saveSnapshot(snapshot: Snapshot): void {
    this.inner.saveSnapshot(snapshot)
  }
  sync(): Promise<void> {
    return this.failing ? Promise.reject(new Error('EIO')) : this.inner.sync()
  }
  close(): Promise<void> {
    return this.inner.close()
  }
}

const members = ['a', 'b', 'c']

/** A memory store that notes, for each sync, how many frames the nodes had sent by the time a disk would start writing. */
class SyncSpy extends FailingStorage {
  watching = false
  readonly framesBeforeWrite: number[] = []
  constructor(private readonly frames: { frames: number }) {
    super()
  }
  override sync(): Promise<void> {
    if (this.watching) {
      const at = this.frames.frames
      // A disk that writes and syncs on the loop's thread starts one microtask later (the log's group commit).
      queueMicrotask(() => this.framesBeforeWrite.push(this.frames.frames - at))
    }
    return super.sync()
  }
}

test('propose and linearizable read on 3 nodes; every replica applies the command once', async () => {
  const c = new Cluster(1)
  await c.start(members)
  const counts = new Map<string, { count: number }>()
  const g = await c.open({ id: 'stock', members, stateMachine: (node) => new Kv(counts.set(node, { count: 0 }).get(node)) })
  const leader = await c.waitForLeader(g)
  const h = g.get(leader)!
  assert.is(await c.settle(h.propose({ op: 'add', key: 'x', n: 5 })), 5)
  assert.is(await c.settle(h.propose({ op: 'add', key: 'x', n: 2 })), 7)
  for (const node of members) assert.is(await c.settle(g.get(node)!.read({ op: 'get', key: 'x' })), 7, `read on ${node}`)
  await c.run(200)
  for (const node of members) assert.is(counts.get(node)!.count, 2, `${node} applied each command once`)
  await c.stopAll()
})

test('a follower forwards proposals to the leader and serves reads after confirming the commit index', async () => {
  const c = new Cluster(2)
  await c.start(members)
  const g = await c.open({ id: 'g', members, stateMachine: () => new Kv() })
  const leader = await c.waitForLeader(g)
  const follower = members.find((m) => m !== leader)!
  const h = g.get(follower)!
  assert.is(await c.settle(h.propose({ op: 'put', key: 'k', value: 'v1' })), undefined)
  assert.is(await c.settle(h.propose({ op: 'put', key: 'k', value: 'v2' })), 'v1')
  // A write through one follower is visible to a read through the other at once (no waiting for replication).
  const other = members.find((m) => m !== leader && m !== follower)!
  assert.is(await c.settle(g.get(other)!.read({ op: 'get', key: 'k' })), 'v2')
  const st = await c.settle(h.status())
  assert.is(st?.role, 'follower')
  assert.is(st?.leader, leader)
  await c.stopAll()
})

test('leader stops: the others elect a new leader and writes continue without losing acknowledged ones', async () => {
  const c = new Cluster(3)
  await c.start(members)
  const g = await c.open({ id: 'g', members, stateMachine: () => new Kv() })
  const first = await c.waitForLeader(g)
  const survivor = members.find((m) => m !== first)!
  for (let i = 1; i <= 5; i++) await c.settle(g.get(survivor)!.propose({ op: 'add', key: 'n', n: 1 }))
  await c.stopNode(first)
  g.delete(first)
  const started = c.clock.now()
  assert.is(await c.settle(g.get(survivor)!.propose({ op: 'add', key: 'n', n: 1 }), 10_000), 6)
  console.log(`  first write after the leader stopped: ${c.clock.now() - started} virtual ms`)
  const second = await c.waitForLeader(g)
  assert.is.not(second, first)
  for (const node of g.keys()) assert.is(await c.settle(g.get(node)!.read({ op: 'get', key: 'n' })), 6)
  await c.stopAll()
})

test('a failing apply is reported as COMMAND_FAILED, the same on every replica, and does not stop the group', async () => {
  const c = new Cluster(4)
  await c.start(members)
  const g = await c.open({ id: 'g', members, stateMachine: () => new Kv() })
  const leader = await c.waitForLeader(g)
  const err = await c.settle(g.get(leader)!.propose({ op: 'fail' })).then(
    () => null,
    (e) => e,
  )
  assert.is(err?.code, 'COMMAND_FAILED')
  assert.match(err.message, 'asked to fail')
  assert.is(await c.settle(g.get(leader)!.propose({ op: 'add', key: 'x', n: 1 })), 1)
  await c.stopAll()
})

test('errors: TIMEOUT without a quorum, NOT_LEADER when no leader can be found, GROUP_STOPPED after stop, INVALID_ARGUMENT', async () => {
  const c = new Cluster(5)
  await c.start(members)
  const g = await c.open({ id: 'g', members, stateMachine: () => new Kv(), requestTimeoutMs: 2000 })
  const leader = await c.waitForLeader(g)
  const followers = members.filter((m) => m !== leader)
  // The leader alone: it keeps leading until CheckQuorum notices, but nothing commits.
  for (const f of followers) c.net.partition(leader, f)
  const noQuorum = await c.settle(g.get(leader)!.propose({ op: 'add', key: 'x', n: 1 }), 5000).catch((e) => e)
  assert.ok(['TIMEOUT', 'NOT_LEADER'].includes(noQuorum.code), `got ${noQuorum.code}`)
  // Everyone alone: no leader anywhere.
  c.net.partition(followers[0]!, followers[1]!)
  await c.run(3000)
  const noLeader = await c.settle(g.get(followers[0]!)!.propose({ op: 'add', key: 'x', n: 1 }), 5000).catch((e) => e)
  assert.is(noLeader.code, 'NOT_LEADER')
  c.net.heal()
  await c.waitForLeader(g)
  const bad = await c.settle(g.get('a')!.propose({ op: 'put', key: 'f', value: () => 1 } as never)).catch((e) => e)
  assert.is(bad.code, 'INVALID_ARGUMENT')
  await c.settle(g.get('a')!.stop())
  const stopped = await c.settle(g.get('a')!.propose({ op: 'add', key: 'x', n: 1 })).catch((e) => e)
  assert.is(stopped.code, 'GROUP_STOPPED')
  await c.stopAll()
})

test('bounded: requests beyond maxPendingRequests on a node are refused with OVERLOADED', async () => {
  const c = new Cluster(7, { maxPendingRequests: 2 })
  await c.start(members)
  const g = await c.open({ id: 'g', members, stateMachine: () => new Kv(), requestTimeoutMs: 1000 })
  const leader = await c.waitForLeader(g)
  for (const m of members) if (m !== leader) c.net.partition(leader, m)
  const h = g.get(leader)!
  const stuck = [h.propose({ op: 'add', key: 'x', n: 1 }), h.propose({ op: 'add', key: 'x', n: 1 })]
  await c.flush()
  const err = await c.settle(h.propose({ op: 'add', key: 'x', n: 1 })).catch((e) => e)
  assert.is(err.code, 'OVERLOADED')
  await c.settle(Promise.allSettled(stuck))
  await c.stopAll()
})

test('a replica whose storage fails stops (GROUP_STOPPED) without acknowledging anything; the others go on', async () => {
  const c = new Cluster(6)
  await c.start(members)
  const stores = new Map(members.map((m) => [m, new FailingStorage()]))
  const g = new Map<string, RaftGroup<any, any, any, any>>()
  for (const m of members) {
    const h = (await c.open({ id: 'g', members, stateMachine: () => new Kv(), storage: stores.get(m)! }, [m])).get(m)!
    g.set(m, h)
  }
  const leader = await c.waitForLeader(g)
  assert.is(await c.settle(g.get(leader)!.propose({ op: 'add', key: 'x', n: 1 })), 1)
  stores.get(leader)!.failing = true
  const err = await c.settle(g.get(leader)!.propose({ op: 'add', key: 'x', n: 1 })).catch((e) => e)
  assert.is(err.code, 'GROUP_STOPPED')
  assert.is(await c.settle(g.get(leader)!.status()), null)
  g.delete(leader)
  const other = [...g.keys()][0]!
  // The command that hit the failing disk may or may not have committed elsewhere; either way the group goes on.
  const n = await c.settle(g.get(other)!.propose({ op: 'add', key: 'x', n: 10 }), 10_000)
  assert.ok(n === 11 || n === 12, `got ${n}`)
  await c.stopAll()
})

test('the leader sends its appends before it starts the sync, so a disk that syncs on the thread does not hold up the followers', async () => {
  const c = new Cluster(7)
  await c.start(members)
  const stores = new Map(members.map((m) => [m, new SyncSpy(c.frames)]))
  const g = new Map<string, RaftGroup<any, any, any, any>>()
  for (const m of members) g.set(m, (await c.open({ id: 'g', members, stateMachine: () => new Kv(), storage: stores.get(m)! }, [m])).get(m)!)
  const leader = await c.waitForLeader(g)
  assert.is(await c.settle(g.get(leader)!.propose({ op: 'add', key: 'x', n: 1 })), 1)
  const spy = stores.get(leader)!
  spy.watching = true
  assert.is(await c.settle(g.get(leader)!.propose({ op: 'add', key: 'x', n: 2 })), 3)
  // The first sync after the proposal persists its entry; the appends to both followers must be on the wire by then.
  assert.ok(spy.framesBeforeWrite.length > 0, 'the leader synced')
  assert.ok(spy.framesBeforeWrite[0]! >= 2, `frames sent before the disk work began: ${spy.framesBeforeWrite[0]}`)
  await c.stopAll()
})

test.run()
