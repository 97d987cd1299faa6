// Graceful shutdown of one of three nodes under entity traffic: entities
// keep answering from the other two, the leaving node's lease is released
// (another node gets it while the lease's TTL is far from over), and the
// Raft leadership it held moves to another voter.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Counter, KvMachine, eventually } from './helpers.js'
import { WsCluster } from './ws-helpers.js'

const LEASE_TTL_MS = 120_000

test('shutting down the node that leads a Raft group and holds a lease, under entity traffic', async () => {
  const c = new WsCluster()
  try {
    const a = await c.start('a')
    await a.whenUp({ timeoutMs: 20_000 })
    await c.start('b')
    await c.start('c')
    const nodes = c.nodes
    await Promise.all(nodes.map((n) => n.whenUp({ members: 3, timeoutMs: 20_000 })))
    const groups = await Promise.all(nodes.map((n) => n.raft.group({ id: 'kv', stateMachine: () => new KvMachine() })))
    await eventually(() => groups[0]!.propose({ op: 'put', key: 'k', value: 'v' }, { timeoutMs: 3000 }))
    const leaderName = (await eventually(async () => {
      const s = await groups[0]!.status()
      if (!s?.leader) throw new Error('no leader yet')
      return s
    })).leader!
    const leaving = nodes.find((n) => n.name === leaderName)!
    const staying = nodes.filter((n) => n !== leaving)
    const held = await eventually(() => leaving.leases.acquire('singleton', { ttlMs: LEASE_TTL_MS, waitMs: 5000 }))
    assert.ok(held.token > 0)

    // Entity traffic from the staying nodes while the leader leaves.
    const ids = Array.from({ length: 12 }, (_, i) => `ent-${i}`)
    let stop = false
    const failures: string[] = []
    let answered = 0
    const traffic = staying.map(async (n) => {
      while (!stop) {
        for (const id of ids) {
          try {
            await n.sharding.entity(Counter, id).ask('add', 1, { timeoutMs: 5000 })
            answered++
          } catch (err) {
            failures.push(`${(err as { code?: string }).code}`)
          }
        }
      }
    })
    const reports = await leaving.shutdown({ reason: 'rolling restart' })
    const phase = (name: string) => reports.find((r) => r.phase === name)
    assert.is(phase('transfer-leadership')?.outcome, 'done')
    assert.is(phase('release-leases')?.outcome, 'done')
    assert.is(phase('leave-cluster')?.outcome, 'done')
    assert.ok(c.lines.some((l) => l.startsWith(`${leaving.name} info moved leadership of`)), 'the node moved its leaderships away itself')
    assert.ok(c.lines.some((l) => l.startsWith(`${leaving.name} info released 1 lease(s)`)), 'the node released its lease')

    // The lease was released, not left to expire: another node gets it now, with the TTL far from over.
    const granted = await eventually(async () => {
      const lease = await staying[0]!.leases.tryAcquire('singleton', { ttlMs: LEASE_TTL_MS })
      if (lease === null) throw new Error('still held')
      return lease
    })
    assert.ok(granted.token > held.token, 'granted with a newer fencing token')

    // Leadership moved to a staying node: the group keeps taking writes.
    await eventually(() => groups[nodes.indexOf(staying[0]!)]!.propose({ op: 'put', key: 'k', value: 'after' }, { timeoutMs: 3000 }))
    const status = await groups[nodes.indexOf(staying[1]!)]!.status()
    assert.ok(status?.leader && status.leader !== leaving.name, `leader is ${status?.leader}`)

    // Entities answer from the two staying nodes.
    const before = answered
    await eventually(async () => {
      if (answered < before + ids.length * 2) throw new Error('waiting for more answers')
    }, 200)
    stop = true
    await Promise.all(traffic)
    for (const id of ids) assert.ok(staying.map((n) => n.name).includes(await staying[1]!.sharding.entity(Counter, id).ask('where', undefined)))
    assert.ok(failures.every((code) => ['ASK_TIMEOUT', 'NODE_UNREACHABLE', 'ACTOR_NOT_FOUND', 'SHARD_BUFFER_FULL'].includes(code)), `only typed retryable failures: ${failures.join(',')}`)
  } finally {
    await c.stop()
  }
})

test.run()
