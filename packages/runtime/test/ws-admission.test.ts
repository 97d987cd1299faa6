import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ManualClock } from '@troupe/runtime'
import { Admission } from '../src/ws/admission.js'
import { addressKey } from '@troupe/runtime'

const test = suite('ws admission')

const limits = { maxPending: 6, maxPendingPerAddress: 3, deadlineMs: 1000 }

test('under the bounds every connection gets a place and nothing is evicted', () => {
  const adm = new Admission<string>(limits, new ManualClock(0))
  for (const [item, addr] of [['a1', 'A'], ['b1', 'B'], ['a2', 'A'], ['c1', 'C']]) assert.equal(adm.admit(item, addr), [])
  assert.equal([adm.size, adm.pendingFrom('A'), adm.pendingFrom('B'), adm.pendingFrom('Z')], [4, 2, 1, 0])
  assert.equal(adm.admit('a1', 'A'), [], 'admitting twice is a no-op')
  assert.is(adm.size, 4)
})

test('an address at its bound evicts its own oldest, not anyone else', () => {
  const adm = new Admission<string>(limits, new ManualClock(0))
  adm.admit('b1', 'B')
  for (const i of [1, 2, 3]) adm.admit(`a${i}`, 'A')
  assert.equal(adm.admit('a4', 'A'), ['a1'])
  assert.equal(adm.admit('a5', 'A'), ['a2'])
  assert.ok(adm.has('b1'))
  assert.equal([adm.size, adm.pendingFrom('A')], [4, 3])
})

test('at the total bound the oldest of the busiest address is evicted; a new connection is never refused', () => {
  const adm = new Admission<string>(limits, new ManualClock(0))
  adm.admit('m1', 'M') // a member joining: one place
  for (const i of [1, 2, 3]) adm.admit(`a${i}`, 'A')
  adm.admit('b1', 'B')
  adm.admit('b2', 'B')
  assert.is(adm.size, 6)
  // A holds the most: its oldest goes, though m1 is older.
  assert.equal(adm.admit('c1', 'C'), ['a1'])
  // Now A and B hold 2 each: the one whose oldest is oldest (A's a2, before b1) gives way.
  assert.equal(adm.admit('c2', 'C'), ['a2'])
  assert.ok(adm.has('m1') && adm.has('c1') && adm.has('c2'))
  assert.is(adm.size, 6)
})

test('a single connection from its own address keeps its place through a flood from other addresses', () => {
  const adm = new Admission<number>({ maxPending: 256, maxPendingPerAddress: 32, deadlineMs: 2000 }, new ManualClock(0))
  const flooders = Array.from({ length: 8 }, (_, i) => `10.0.0.${i}`)
  let n = 0
  for (; n < 5000; n++) adm.admit(n, flooders[n % 8])
  adm.admit(-1, '10.0.0.99')
  for (; n < 100_000; n++) {
    const evicted = adm.admit(n, flooders[n % 8])
    assert.is(evicted.length, 1)
    assert.ok(evicted[0] !== -1, 'the member was evicted')
  }
  assert.ok(adm.has(-1))
  assert.ok(adm.size <= 256)
  for (const a of flooders) assert.ok(adm.pendingFrom(a) <= 32)
})

test('with every address holding one place, the oldest of all is evicted', () => {
  const adm = new Admission<string>({ maxPending: 3, maxPendingPerAddress: 3, deadlineMs: 1000 }, new ManualClock(0))
  adm.admit('x', 'X')
  adm.admit('y', 'Y')
  adm.admit('z', 'Z')
  adm.release('x')
  adm.admit('x2', 'X')
  assert.equal(adm.admit('w', 'W'), ['y'])
  assert.equal(adm.admit('v', 'V'), ['z'])
})

test('deadlines: each place expires deadlineMs after its admission, oldest first; release forgets', () => {
  const clock = new ManualClock(0)
  const adm = new Admission<string>(limits, clock)
  assert.is(adm.nextDeadlineMs(), null)
  adm.admit('a', 'A')
  clock.advance(300)
  adm.admit('b', 'B')
  clock.advance(300)
  adm.admit('c', 'A')
  assert.is(adm.nextDeadlineMs(), 1000)
  clock.advance(399)
  assert.equal(adm.expire(), [])
  clock.advance(1)
  assert.equal(adm.expire(), ['a'])
  assert.is(adm.nextDeadlineMs(), 1300)
  assert.ok(adm.release('b'))
  assert.not.ok(adm.release('b'))
  assert.is(adm.nextDeadlineMs(), 1600)
  clock.advance(10_000)
  assert.equal(adm.expire(), ['c'])
  assert.equal([adm.size, adm.pendingFrom('A'), adm.nextDeadlineMs()], [0, 0, null])
})

test('limits are checked', () => {
  const clock = new ManualClock(0)
  assert.throws(() => new Admission({ maxPending: 2, maxPendingPerAddress: 3, deadlineMs: 1 }, clock))
  assert.throws(() => new Admission({ maxPending: 2, maxPendingPerAddress: 0, deadlineMs: 1 }, clock))
  assert.throws(() => new Admission({ maxPending: 2, maxPendingPerAddress: 1, deadlineMs: 0 }, clock))
})

test('the per-address key: IPv4 as is (also IPv4-mapped), IPv6 by its /64', () => {
  assert.is(addressKey('127.0.0.2'), '127.0.0.2')
  assert.is(addressKey('::ffff:10.1.2.3'), '10.1.2.3')
  assert.is(addressKey('2001:db8:0:1:aaaa::1'), '2001:db8:0:1::/64')
  assert.is(addressKey('2001:0db8:0000:0001:ffff:ffff:ffff:ffff'), '2001:db8:0:1::/64')
  assert.is(addressKey('::1'), '0:0:0:0::/64')
  assert.is(addressKey('fe80::1'), 'fe80:0:0:0::/64')
  assert.is(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64')
  assert.is(addressKey('2001:db8:1:2:bbbb:cccc:dddd:1'), '2001:db8:1:2::/64')
  assert.is(addressKey(undefined), '?')
  assert.is(addressKey(''), '?')
})

test.run()
