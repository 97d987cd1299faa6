import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem } from '@troupe/runtime'
import { Cluster } from '../src/cluster/cluster.js'
import { TestCluster } from './cluster-helpers.js'

const Input = suite('cluster input and API edges')

Input('malformed daemon and heartbeat messages are rejected with a reason; the cluster keeps working', async () => {
  const c = new TestCluster()
  await c.startAll(['a', 'b', 'c'])
  const rejected: string[] = []
  c.node('a').system.events.on('inboundRejected', (r) => void rejected.push(r.reason))
  const b = c.node('b').system
  const daemon = b.remoteRef('a', '/system/cluster')
  const hb = b.remoteRef('a', '/system/cluster-heartbeat')
  const bad: unknown[] = [
    null,
    'x',
    { from: 'b', gossip: null },
    { from: 'b', gossip: { m: [['a', 'a', 1, 'sleeping']], t: [], r: [], s: [] } },
    { from: 'b', gossip: { m: new Array(20_000).fill(0), t: [], r: [], s: [] } },
    { from: 'b', gossip: { m: [['__proto__', 'a', 1, 'up']], t: [], r: [], s: 'all' } },
  ]
  for (const p of bad) {
    daemon.tell('gossip', p)
    daemon.tell('welcome', p)
  }
  for (const p of [null, 7, { node: 5 }, { node: 'z', address: 'z', incarnation: -1 }, { node: 'z'.repeat(1000), address: 'z', incarnation: 1 }]) daemon.tell('join', p)
  for (const p of [null, { from: 'b', digest: 'x', seen: 'y' }, { from: 'nobody', digest: 1, seen: [] }]) daemon.tell('status', p)
  for (const p of [null, { from: 3 }]) hb.tell('heartbeat', p)
  for (const p of [null, { from: 'b', incarnation: 'x' }]) hb.tell('heartbeatAck', p)
  await c.run(500)
  assert.ok(rejected.filter((r) => r.startsWith('cluster:')).length >= 8, rejected.join('\n'))
  assert.ok(c.allUp(['a', 'b', 'c']), c.describe())
  assert.not.ok(c.node('a').cluster.members().some((m) => m.node === 'z' || m.node === '__proto__'))
  await c.run(2000)
  assert.ok(c.allUp(['a', 'b', 'c']), 'nobody was suspected because of the noise')
  await c.terminateAll()
})

Input('a throwing event listener loses no events and does not stop the cluster', async () => {
  const c = new TestCluster()
  await c.add('a')
  const a = c.node('a')
  a.cluster.on('memberJoined', () => {
    throw new Error('listener bug')
  })
  await c.add('b')
  await c.until(() => c.allUp(['a', 'b']), 5000, 'both up despite the listener')
  assert.ok(a.log.includes('memberJoined:b') && a.log.includes('memberUp:b'), a.log.join())
  await c.terminateAll()
})

Input('whenUp resolves true once up, and false when the node ends first', async () => {
  const c = new TestCluster()
  const a = await c.add('a')
  const up = a.cluster.whenUp()
  await c.run(500)
  assert.is(await up, true)
  const lonely = await c.add('lonely', { seeds: ['nobody'] })
  const never = lonely.cluster.whenUp()
  await c.run(300)
  void lonely.cluster.leave()
  await c.run(10)
  assert.is(await never, false)
  assert.is(lonely.cluster.status, 'removed')
  await c.terminateAll()
})

Input('terminating the system stops the cluster and leaves no timers behind', async () => {
  const c = new TestCluster()
  await c.startAll(['a', 'b'])
  await c.terminateAll()
  for (const n of ['a', 'b']) assert.ok(c.node(n).cluster.isTerminated)
  assert.is(c.clock.pendingTimers(), 0)
})

Input('a single node without a transport forms a cluster of one', async () => {
  const system = new ActorSystem({ name: 'solo' })
  const cluster = Cluster.start(system, { gossipIntervalMs: 5, heartbeatIntervalMs: 5, loopLag: false })
  assert.is(await cluster.whenUp(), true)
  assert.equal(cluster.upMembers(), ['solo'])
  assert.is(cluster.leader(), 'solo')
  await system.terminate()
})

Input('invalid options are typed errors', () => {
  const system = new ActorSystem({ name: 'x' })
  assert.throws(() => Cluster.start(system, { heartbeatIntervalMs: 0 }), (e: any) => e.code === 'INVALID_ARGUMENT')
  assert.throws(() => Cluster.start(system, { phiThreshold: -1 }), (e: any) => e.code === 'INVALID_ARGUMENT')
})

Input.run()
