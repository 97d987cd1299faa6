// App-version-aware allocation of new shards: candidates are the members of
// the newest app version; with one version placement is exactly today's.
import { readFileSync } from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Allocation, FixedMembershipView } from '@troupe/runtime'
import { newestMembers } from '../src/sharding/allocation.js'

const test = suite('allocation of new shards')

const SHARDS = 1024
const golden = JSON.parse(readFileSync(new URL('../../../test/fixtures/golden/placement.json', import.meta.url), 'utf8')) as {
  placements: Record<string, { members: string[]; shardOwners: string[] }>
}

const owners = (a: Allocation) => Array.from({ length: SHARDS }, (_, s) => a.ownerOf(s))

test('one app version (or none known): exactly the placement of the golden fixture', () => {
  for (const { members, shardOwners } of Object.values(golden.placements)) {
    for (const version of [undefined, '', '1.2.3']) {
      const table = Allocation.forNewShards(members, SHARDS, () => version)
      assert.equal(owners(table), shardOwners, `${members.join(',')} @ ${String(version)}`)
    }
  }
})

test('mixed versions: every new shard goes to a member of the newest version, spread by the same hashing', () => {
  const members = ['n1', 'n2', 'n3', 'n4']
  const versions: Record<string, string> = { n1: '1.9.0', n2: '1.10.0', n3: '1.9.0', n4: '1.10.0' }
  const table = Allocation.forNewShards(members, SHARDS, (n) => versions[n])
  const counts = table.counts()
  assert.equal([...counts.keys()], ['n2', 'n4'])
  assert.ok(counts.get('n2')! > 400 && counts.get('n4')! > 400, JSON.stringify([...counts]))
  // The same as a table over the newest members alone, on every node that knows the versions.
  assert.equal(owners(table), owners(Allocation.compute(['n2', 'n4'], SHARDS)))
  // Unknown versions count as '' (the oldest).
  assert.equal(newestMembers(members, (n) => (n === 'n3' ? '0.1' : undefined)), ['n3'])
})

test('newestMembers: semver-ish order, ties kept sorted, fallback to all', () => {
  const m = ['a', 'b', 'c', 'd']
  const v = (map: Record<string, string>) => (n: string) => map[n]
  assert.equal(newestMembers(m, v({ a: '2.0.0', b: '10.0.0', c: '9.9', d: '10.0.0' })), ['b', 'd'])
  assert.equal(newestMembers(m, v({ a: '1.2.0-rc1', b: '1.2.0', c: '1.2', d: '' })), ['b'])
  assert.equal(newestMembers(m, v({})), m)
})

test('FixedMembershipView carries app versions for placement tests', () => {
  const view = new FixedMembershipView('a', ['a', 'b'])
  view.setAppVersion('b', '2.0')
  assert.is(view.appVersionOf('b'), '2.0')
  assert.is(view.appVersionOf('a'), undefined)
  assert.equal(Allocation.forNewShards(view.upMembers(), 16, (n) => view.appVersionOf(n)).members, ['b'])
})

test.run()
