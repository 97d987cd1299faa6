// Members carry app version, roles, metadata and their wire range: set by
// ClusterOptions, carried by join requests and gossip, shown by members()
// and events, bounded on the options and on input from peers.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { TroupeError } from '@troupe/runtime'
import type { Member } from '@troupe/runtime'
import { Cluster } from '../src/cluster/cluster.js'
import { DAEMON_PATH } from '../src/cluster/messages.js'
import { compareAppVersions, MEMBER_INFO_LIMITS } from '../src/cluster/member-info.js'
import { BadGossip, membershipFromWire, membershipToWire } from '../src/cluster/membership-wire.js'
import { TestCluster } from './cluster-helpers.js'

const test = suite('cluster member info')

const INFO = {
  a: { appVersion: '1.4.0', roles: ['frontend', 'backend'], metadata: { zone: 'eu-1', rack: '7' } },
  b: { appVersion: '1.10.2', roles: ['backend'], metadata: {} },
  c: {},
} as const

test('app version, roles and metadata reach every member (through joins and gossip), members() and events', async () => {
  const c = new TestCluster()
  const ups: Member[] = []
  await c.add('a', INFO.a)
  c.node('a').cluster.on('memberUp', (m) => void ups.push(m))
  await c.add('b', INFO.b)
  await c.add('c', INFO.c)
  await c.until(() => c.allUp(['a', 'b', 'c']), 10_000, 'all up')
  for (const name of ['a', 'b', 'c']) {
    const view = c.node(name).cluster
    const [a, b, cc] = view.members()
    assert.is(a.appVersion, '1.4.0', name)
    assert.equal(a.roles, ['backend', 'frontend'], name) // sorted
    assert.equal({ ...a.metadata }, { rack: '7', zone: 'eu-1' }, name)
    assert.is(b.appVersion, '1.10.2')
    assert.equal(b.roles, ['backend'])
    assert.is(cc.appVersion, '')
    assert.equal(cc.roles, [])
    assert.equal({ ...cc.metadata }, {})
    assert.equal(view.membersWithRole('backend').map((m) => m.node), ['a', 'b'])
    assert.equal(view.membersWithRole('frontend').map((m) => m.node), ['a'])
    assert.equal(view.membersWithRole('nobody'), [])
  }
  const upB = ups.find((m) => m.node === 'b')!
  assert.is(upB.appVersion, '1.10.2')
  assert.equal(upB.roles, ['backend'])
  await c.terminateAll()
})

test('ClusterOptions: bad or oversized info is INVALID_ARGUMENT', async () => {
  const c = new TestCluster()
  const n = await c.add('a')
  const L = MEMBER_INFO_LIMITS
  const bad = [
    { appVersion: 'x'.repeat(L.maxAppVersionChars + 1) },
    { roles: [''] },
    { roles: Array.from({ length: L.maxRoles + 1 }, (_, i) => `r${i}`) },
    { roles: ['x'.repeat(L.maxRoleChars + 1)] },
    { metadata: { k: 7 } },
    { metadata: Object.fromEntries(Array.from({ length: L.maxMetadataEntries + 1 }, (_, i) => [`k${i}`, 'v'])) },
    { metadata: { k: 'v'.repeat(L.maxMetadataValueChars + 1) } },
    { metadata: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`key-${i}`, 'v'.repeat(250)])) },
  ]
  for (const options of bad) {
    assert.throws(() => Cluster.start(n.system, options as never), (e: unknown) => e instanceof TroupeError && e.code === 'INVALID_ARGUMENT', JSON.stringify(options).slice(0, 80))
  }
  await c.terminateAll()
})

test('gossip from a peer with malformed or oversized info is rejected whole; a join with it is ignored', async () => {
  const good = (extra: unknown[]) => ({ m: [['a', 'ws://a', 1, 'up', ...extra]], t: [], r: [], s: [] })
  assert.is(membershipFromWire(good(['2.0', ['x'], { k: 'v' }, 2, 3])).get('a')?.info?.appVersion, '2.0')
  for (const extra of [[7], ['1', 'not roles'], ['1', [], []], ['1', [], { k: 1 }], ['1', [], {}, 3, 2], ['1', [], {}, 0, 2], ['1', Array.from({ length: 40 }, (_, i) => `r${i}`)]]) {
    assert.throws(() => membershipFromWire(good(extra)), (e: unknown) => e instanceof BadGossip, JSON.stringify(extra))
  }
  // The short form stays short; the long form round-trips.
  assert.is(membershipToWire(membershipFromWire(good([]))).m[0].length, 4)
  assert.is(membershipToWire(membershipFromWire(good(['', [], {}, 2, 2]))).m[0].length, 4)
  assert.equal(membershipToWire(membershipFromWire(good(['2.0', ['y', 'x'], { b: '2', a: '1' }, 2, 3]))).m[0], ['a', 'ws://a', 1, 'up', '2.0', ['x', 'y'], { a: '1', b: '2' }, 2, 3])

  const c = new TestCluster()
  await c.startAll(['a', 'b'])
  const evil = await c.add('evil', { seeds: [] })
  evil.system.remoteRef('a', DAEMON_PATH).tell('join' as never, { node: 'mallory', address: 'x', incarnation: 5, roles: ['r'.repeat(500)] } as never)
  evil.system.remoteRef('a', DAEMON_PATH).tell('join' as never, { node: 'trudy', address: 'x', incarnation: 5, metadata: { k: 'v'.repeat(5000) } } as never)
  await c.run(500)
  assert.equal(c.node('a').cluster.members().map((m) => m.node).filter((n) => n !== 'evil'), ['a', 'b'])
  await c.terminateAll()
})

test('compareAppVersions: numeric dotted parts as numbers, then strings; more parts win a tie; empty is lowest', () => {
  const sorted = ['', '0.9', '1', '1.2', '1.2.0-rc1', '1.2.0', '1.2.1', '1.9.9', '1.10.0', '2.0.0-alpha', '2.0.0', '10.0']
  for (let i = 0; i < sorted.length; i++) {
    for (let j = 0; j < sorted.length; j++) {
      const got = Math.sign(compareAppVersions(sorted[i], sorted[j]))
      assert.is(got, Math.sign(i - j), `${sorted[i]} vs ${sorted[j]}`)
    }
  }
})

test.run()
