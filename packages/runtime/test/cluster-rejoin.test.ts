import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { TestCluster } from './cluster-helpers.js'

const Rejoin = suite('a node cut off from its cluster finds out and rejoins')

Rejoin('a node admitted only by a member that was then cut off goes down after stable-after, and its restart joins the cluster', async () => {
  const c = new TestCluster()
  await c.startAll(['a', 'b', 'c', 'd'])
  // a admits x while it cannot reach the others, and crashes before they hear of x.
  c.partition(['a'], ['b', 'c', 'd'])
  const x = await c.add('x', { seeds: ['a'] })
  await c.until(() => x.cluster.status !== null, 2000, 'a admits x')
  await c.node('a').system.terminate()
  assert.ok(['b', 'c', 'd'].every((n) => x.cluster.members().some((m) => m.node === n && m.reachable)), 'x counts b, c and d as members')
  await c.until(() => x.cluster.isTerminated, 5000, 'x finds out it is not a member of their cluster')
  assert.ok(x.log.includes('selfDown'), x.log.join())
  assert.is(x.cluster.status, 'down')
  assert.is(x.cluster.members().find((m) => m.node === 'x')?.status, 'down')
  assert.equal(x.cluster.upMembers(), [], 'a node that is out owns nothing')
  for (const n of ['b', 'c', 'd']) assert.not.ok(c.node(n).log.some((e) => e.endsWith(':x')), `${n} never counted x: ${c.node(n).log}`)
  // The restart (a new incarnation) joins through a seed of the cluster that survived.
  await x.system.terminate()
  await c.add('x', { seeds: ['b'] })
  await c.until(() => c.allUp(['b', 'c', 'd', 'x']), 5000, 'the restarted x is up in the one cluster')
  await c.terminateAll()
})

Rejoin('a joiner that a member has not heard of yet is not sent away while that member catches up', async () => {
  const c = new TestCluster()
  const names = ['a', 'b', 'c', 'd', 'e']
  await c.startAll(names)
  // b hears nothing from the cluster for 700 ms (less than stable-after, 1000 ms), but x reaches it.
  c.partition(['b'], ['a', 'c', 'd', 'e'])
  const x = await c.add('x', { seeds: ['a'] })
  const incarnation = x.cluster.incarnation
  await c.run(700)
  c.net.heal()
  await c.until(() => c.allUp([...names, 'x']), 5000, 'all six up')
  assert.ok(c.node('b').log.includes('memberJoined:x') || c.node('b').log.includes('memberUp:x'), 'b learned of x late')
  assert.is(c.node('x').cluster.incarnation, incarnation, 'x was not restarted')
  for (const n of [...names, 'x']) assert.not.ok(c.node(n).log.includes('selfDown'), `${n}: ${c.node(n).log}`)
  await c.terminateAll()
})

Rejoin('a node downed and removed while it kept a view of its own learns it from the tombstone once the partition heals', async () => {
  const c = new TestCluster()
  await c.add('a')
  await c.add('b')
  // c never downs anyone, itself included: it keeps its view through the partition.
  await c.add('c', { downing: 'manual' })
  await c.until(() => c.allUp(['a', 'b', 'c']), 5000, 'all up')
  const cNode = c.node('c')
  c.partition(['a', 'b'], ['c'])
  await c.until(() => c.allUp(['a', 'b']), 10_000, 'the majority downs and removes c')
  assert.not.ok(cNode.cluster.isTerminated, 'c kept its own view')
  c.net.heal()
  await c.until(() => cNode.cluster.isTerminated, 5000, 'c learns it was removed')
  assert.ok(cNode.log.includes('selfRemoved') || cNode.log.includes('selfDown'), cNode.log.join())
  assert.equal(cNode.cluster.upMembers(), [])
  await cNode.system.terminate()
  await c.add('c')
  await c.until(() => c.allUp(['a', 'b', 'c']), 5000, 'the restarted c rejoins')
  await c.terminateAll()
})

Rejoin.run()
