// Three nodes through startNode on an in-process MemoryNetwork with
// simulated disks: the same app code a real deployment runs, with the
// transport and disk injected. Entities answer from every node, a Raft
// group takes a put and a read, a lease is acquired, a saga runs.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { MemoryNetwork } from '@troupe/runtime'
import { SimDisk } from '@troupe/testkit'
import { startNode } from '../src/index.js'
import type { TroupeNode } from '../src/index.js'
import { Counter, FAST_CLUSTER, KvMachine, eventually, services, testLog, transfer } from './helpers.js'

const NAMES = ['a', 'b', 'c']

async function startThree(lines: string[]): Promise<{ nodes: TroupeNode[]; net: MemoryNetwork }> {
  const net = new MemoryNetwork()
  const seeds = NAMES.map((n) => ({ node: n, address: n }))
  const nodes = await Promise.all(
    NAMES.map((name, i) =>
      startNode({
        name,
        transport: net.transport(),
        disk: new SimDisk({ random: mulberry(i + 1) }),
        seeds,
        cluster: FAST_CLUSTER,
        services: services(),
        log: testLog(lines, name),
      }),
    ),
  )
  return { nodes, net }
}

test('three nodes on MemoryNetwork: entities, a Raft group, a lease and a saga', async () => {
  const lines: string[] = []
  const { nodes } = await startThree(lines)
  try {
    const up = await Promise.all(nodes.map((n) => n.whenUp({ members: 3, timeoutMs: 20_000 })))
    for (const members of up) assert.equal(members, NAMES)
    for (const n of nodes) assert.ok(n.ready, `${n.name} is ready`)

    // Sharded entities: asks from every node reach the same entity.
    let expected = 0
    for (let round = 0; round < 3; round++) {
      for (const n of nodes) {
        for (const id of ['x', 'y', 'z']) {
          await eventually(() => n.sharding.entity(Counter, id).ask('add', 1))
        }
        expected++
      }
    }
    for (const n of nodes) for (const id of ['x', 'y', 'z']) assert.is(await n.sharding.entity(Counter, id).ask('get', undefined), expected)
    const owners = new Set(await Promise.all(['x', 'y', 'z', 'w', 'v', 'u'].map((id) => nodes[0]!.sharding.entity(Counter, id).ask('where', undefined))))
    assert.ok(owners.size >= 2, `entities spread over nodes: ${[...owners]}`)

    // A Raft group opened on every node: a put on one, a linearizable read on another.
    const groups = await Promise.all(nodes.map((n) => n.raft.group({ id: 'kv', stateMachine: () => new KvMachine() })))
    await eventually(() => groups[0]!.propose({ op: 'put', key: 'k', value: 'v1' }, { timeoutMs: 3000 }))
    assert.is(await eventually(() => groups[2]!.read({ op: 'get', key: 'k' }, { timeoutMs: 3000 })), 'v1')

    // A lease: held by one node, refused to another while held.
    const lease = await eventually(() => nodes[1]!.leases.acquire('job', { ttlMs: 5000, waitMs: 3000 }))
    assert.ok(lease.token > 0)
    assert.is(await nodes[2]!.leases.tryAcquire('job', { ttlMs: 5000 }), null)

    // A saga, recorded in the Raft saga log, read back from another node.
    const result = await eventually(() => nodes[0]!.sagas.run(transfer, { amount: 5 }, { id: 't-1' }))
    assert.is(result.status, 'completed')
    const status = await nodes[2]!.sagas.status('t-1')
    assert.is(status?.state, 'completed')
  } finally {
    await Promise.all(nodes.map((n) => n.shutdown()))
  }
})

test('a node that is shut down leaves: the others see two members and keep serving', async () => {
  const lines: string[] = []
  const { nodes } = await startThree(lines)
  try {
    await Promise.all(nodes.map((n) => n.whenUp({ members: 3, timeoutMs: 20_000 })))
    for (const id of ['p', 'q', 'r', 's']) await eventually(() => nodes[0]!.sharding.entity(Counter, id).ask('add', 1))
    const reports = await nodes[2]!.shutdown({ reason: 'test' })
    assert.ok(reports.some((r) => r.phase === 'leave-cluster'), 'the leave phase ran')
    assert.not.ok(nodes[2]!.ready)
    assert.equal(await nodes[0]!.whenUp({ members: 2, timeoutMs: 10_000 }), ['a', 'b'])
    // The cluster view drops c once it is removed.
    await eventually(async () => assert.equal(nodes[0]!.cluster.upMembers(), ['a', 'b']))
    // Entities keep answering, now from a and b only (state in memory moves with nothing: persist it to keep it).
    for (const id of ['p', 'q', 'r', 's']) {
      assert.ok((await eventually(() => nodes[1]!.sharding.entity(Counter, id).ask('add', 1))) >= 1)
      assert.ok(['a', 'b'].includes(await nodes[1]!.sharding.entity(Counter, id).ask('where', undefined)))
    }
    // Idempotent.
    assert.equal(await nodes[2]!.shutdown(), reports)
  } finally {
    await Promise.all(nodes.map((n) => n.shutdown()))
  }
})

function mulberry(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

test.run()
