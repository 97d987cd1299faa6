import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { TestCluster } from './cluster-helpers.js'

const Join = suite('cluster join and leave')

Join('five nodes join through a seed: all up, one leader, same view everywhere', async () => {
  const c = new TestCluster()
  const names = ['a', 'b', 'c', 'd', 'e']
  for (const n of names) await c.add(n)
  const ms = await c.until(() => c.allUp(names), 10_000, 'all up')
  console.log(`  5 nodes up after ${ms} ms of virtual time (gossip every 100 ms, seed timeout 300 ms)`)
  for (const n of names) {
    const cl = c.node(n).cluster
    assert.is(cl.leader(), 'a', 'lowest address leads')
    assert.ok(cl.isUp)
    assert.equal(cl.upMembers(), names)
    assert.ok(cl.members().every((m) => m.status === 'up' && m.reachable))
  }
  const aLog = c.node('a').log
  for (const n of names) assert.ok(aLog.includes(`memberUp:${n}`), `a saw ${n} up: ${aLog}`)
  for (const n of names) assert.not.ok(c.node(n).log.some((e) => /Down|unreachable|Removed/.test(e)), `${n}: ${c.node(n).log}`)
  await c.terminateAll()
})

Join('nodes started together with several seeds form one cluster (the first seed bootstraps)', async () => {
  const c = new TestCluster()
  const names = ['a', 'b', 'c']
  for (const n of names) await c.add(n, { seeds: ['a', 'b', 'c'] })
  await c.until(() => c.allUp(names), 10_000, 'all up')
  assert.is(c.node('c').cluster.leader(), 'a')
  await c.terminateAll()
})

Join('a non-first seed does not start a cluster of its own', async () => {
  const c = new TestCluster()
  await c.add('b', { seeds: ['a', 'b'] })
  await c.run(3000)
  assert.is(c.node('b').cluster.status, null, 'still waiting for a seed')
  await c.add('a', { seeds: ['a', 'b'] })
  await c.until(() => c.allUp(['a', 'b']), 10_000, 'both up once the first seed runs')
  await c.terminateAll()
})

Join('graceful leave: leaving → exiting → removed, never down; the rest stay up', async () => {
  const c = new TestCluster()
  await c.startAll(['a', 'b', 'c', 'd'])
  const b = c.node('b')
  let left = false
  void b.cluster.leave().then(() => (left = true))
  await c.until(() => left, 5000, 'leave() resolves')
  assert.ok(b.cluster.isTerminated)
  assert.is(b.cluster.status, 'removed')
  assert.ok(b.log.includes('selfRemoved'))
  assert.not.ok(b.log.includes('selfDown'))
  await c.until(() => c.allUp(['a', 'c', 'd']), 5000, 'others drop b')
  for (const n of ['a', 'c', 'd']) {
    const bEvents = c.node(n).log.filter((e) => e.endsWith(':b') && !e.startsWith('memberJoined') && !e.startsWith('memberUp'))
    assert.not.ok(bEvents.includes('memberDown:b'), `${n} never downs b`)
    assert.is(bEvents.at(-1), 'memberRemoved:b', `${n}: ${bEvents}`)
    assert.ok(bEvents.indexOf('memberRemoved:b') > -1)
  }
  // The actors stopped: b no longer answers heartbeats or gossip.
  assert.is(b.system.lookup('/system/cluster'), undefined)
  await c.run(2000)
  assert.ok(c.allUp(['a', 'c', 'd']), 'no one finds b unreachable or downs anyone afterwards')
  await c.terminateAll()
})

Join('the leader leaves: leadership passes to the next lowest address', async () => {
  const c = new TestCluster()
  await c.startAll(['a', 'b', 'c'])
  let left = false
  void c.node('a').cluster.leave().then(() => (left = true))
  await c.until(() => left && c.allUp(['b', 'c']), 5000, 'a left')
  assert.is(c.node('c').cluster.leader(), 'b')
  assert.ok(c.node('c').log.includes('leaderChanged:b'))
  await c.terminateAll()
})

Join('the last member leaving removes itself', async () => {
  const c = new TestCluster()
  await c.startAll(['a'])
  let left = false
  void c.node('a').cluster.leave().then(() => (left = true))
  await c.until(() => left, 5000, 'a removed itself')
  assert.is(c.node('a').cluster.status, 'removed')
  await c.terminateAll()
})

Join('a restarted node joins again with a new incarnation, replacing the old entry', async () => {
  const c = new TestCluster()
  await c.startAll(['a', 'b', 'c'])
  const old = c.node('c')
  const oldIncarnation = old.cluster.incarnation
  await old.system.terminate()
  await c.run(50)
  const fresh = await c.add('c')
  assert.ok(fresh.cluster.incarnation > oldIncarnation)
  await c.until(() => c.allUp(['a', 'b', 'c']) && c.node('a').cluster.members().find((m) => m.node === 'c')?.incarnation === fresh.cluster.incarnation, 5000, 'new c up')
  const aLog = c.node('a').log
  const removed = aLog.lastIndexOf('memberRemoved:c')
  assert.ok(removed > -1 && aLog.indexOf('memberJoined:c', removed) > removed, `old c removed before new c joined: ${aLog}`)
  assert.not.ok(aLog.includes('memberDown:c'), 'replacing an incarnation needs no downing')
  await c.terminateAll()
})

Join.run()
