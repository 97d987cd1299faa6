// The cluster version: the highest wire version every member speaks. It
// drops when a member that speaks less joins (so a rollback stays possible)
// and rises when the last such member is removed; `versionChanged` says so.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { WIRE_VERSION, WIRE_VERSION_NEXT } from '../src/wire-version.js'
import { TestCluster } from './cluster-helpers.js'

const test = suite('cluster version')

const N = WIRE_VERSION
const NEXT = WIRE_VERSION_NEXT
const next = { transport: { versions: { min: N, max: NEXT } } }

test('min over members of their top version; drops when an older node joins, rises when it is removed; an event each time', async () => {
  const c = new TestCluster()
  const changes: string[] = []
  const a = await c.add('a', next)
  a.cluster.on('versionChanged', (v, prev) => void changes.push(`${prev}->${v}`))
  assert.is(a.cluster.version, NEXT) // before joining: its own
  await c.add('b', next)
  await c.until(() => c.allUp(['a', 'b']), 10_000, 'a, b up')
  assert.is(a.cluster.version, NEXT)
  assert.ok(a.cluster.supports(NEXT))
  assert.equal(changes, [])

  // An old node joins: every member drops to N.
  await c.add('old', {})
  await c.until(() => c.allUp(['a', 'b', 'old']), 10_000, 'old up')
  for (const n of ['a', 'b', 'old']) assert.is(c.node(n).cluster.version, N, n)
  assert.not.ok(a.cluster.supports(NEXT))
  assert.equal(changes, [`${NEXT}->${N}`])
  assert.equal(a.cluster.members().find((m) => m.node === 'old')!.wire, { min: N, max: N })

  // It leaves (upgraded and restarted as NEXT): once removed, the version rises again.
  void c.node('old').cluster.leave()
  await c.until(() => a.cluster.members().every((m) => m.node !== 'old') && c.node('old').cluster.isTerminated, 10_000, 'old removed')
  assert.is(a.cluster.version, NEXT)
  assert.equal(changes, [`${NEXT}->${N}`, `${N}->${NEXT}`])

  // A rollback: an old node joins again, and the version drops back.
  await c.node('old').system.terminate()
  c.nodes.delete('old')
  await c.add('old2', {})
  await c.until(() => c.allUp(['a', 'b', 'old2']), 10_000, 'old2 up')
  assert.is(c.node('b').cluster.version, N)
  assert.equal(changes, [`${NEXT}->${N}`, `${N}->${NEXT}`, `${NEXT}->${N}`])
  await c.terminateAll()
})

test('a cluster that sets no transport versions speaks this build\'s version', async () => {
  const c = new TestCluster()
  await c.startAll(['a', 'b'])
  assert.is(c.node('a').cluster.version, N)
  assert.ok(c.node('a').cluster.supports(N))
  await c.terminateAll()
})

test.run()
