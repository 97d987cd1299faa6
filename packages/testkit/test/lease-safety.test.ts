import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { checkLeaseRelease, checkLeaseSafety } from '../src/checkers/lease-safety.js'
import type { FenceEvent, LeaseLogEvent } from '../src/checkers/lease-safety.js'

const grant = (index: number, holder: string, mode: 'exclusive' | 'shared' = 'exclusive', name = 'job', timeMs?: number): LeaseLogEvent => ({
  kind: 'grant', index, name, holder, token: index, mode, ...(timeMs === undefined ? {} : { timeMs }),
})
const end = (index: number, holder: string, reason = 'released', name = 'job', timeMs?: number): LeaseLogEvent => ({
  kind: 'end', index, name, holder, reason, ...(timeMs === undefined ? {} : { timeMs }),
})
const fence = (token: number, accepted: boolean, holder?: string): FenceEvent => ({ resource: 'counter', name: 'job', token, accepted, ...(holder ? { holder } : {}) })

const good: LeaseLogEvent[] = [
  grant(3, 'a'),
  end(7, 'a', 'expired'),
  grant(7, 'b'),
  end(9, 'b'),
  grant(9, 'r1', 'shared'),
  grant(9, 'r2', 'shared'),
  grant(12, 'r3', 'shared'),
  end(14, 'r1'),
  end(15, 'r2'),
  end(15, 'r3'),
  grant(15, 'c'),
  grant(16, 'x', 'exclusive', 'other'),
]

test('a good history passes, fenced accesses included', () => {
  const fenceLog = [fence(3, true, 'a'), fence(7, true, 'b'), fence(3, false, 'a'), fence(7, true, 'b'), fence(15, true, 'c')]
  assert.equal(checkLeaseSafety({ log: good, fence: fenceLog, replicas: { n2: good.slice(7), n3: good.slice(0, 3) } }, { tokenIsIndex: true }), [])
})

test('two exclusive holders at one index', () => {
  const v = checkLeaseSafety({ log: [grant(3, 'a'), grant(5, 'b')] })
  assert.equal(v.map((x) => x.rule), ['exclusive'])
  assert.match(v[0]!.message, /exclusive grant to b \(token 5\) while held by a/)
})

test('a shared grant beside an exclusive holder, and an exclusive one beside shared holders', () => {
  assert.equal(checkLeaseSafety({ log: [grant(3, 'a'), grant(5, 'r', 'shared')] }).map((x) => x.rule), ['exclusive'])
  assert.equal(checkLeaseSafety({ log: [grant(3, 'r', 'shared'), grant(5, 'a')] }).map((x) => x.rule), ['exclusive'])
})

test('tokens that do not increase', () => {
  const lower: LeaseLogEvent[] = [grant(8, 'a'), end(9, 'a'), { kind: 'grant', index: 10, name: 'job', holder: 'b', token: 6, mode: 'exclusive' }]
  assert.equal(checkLeaseSafety({ log: lower }).map((x) => x.rule), ['token'])
  const equalExclusive: LeaseLogEvent[] = [grant(8, 'a'), end(9, 'a'), { kind: 'grant', index: 9, name: 'job', holder: 'b', token: 8, mode: 'exclusive' }]
  assert.equal(checkLeaseSafety({ log: equalExclusive }).map((x) => x.rule), ['token'])
  const notIndex: LeaseLogEvent[] = [{ kind: 'grant', index: 8, name: 'job', holder: 'a', token: 9, mode: 'exclusive' }]
  assert.equal(checkLeaseSafety({ log: notIndex }), [])
  assert.equal(checkLeaseSafety({ log: notIndex }, { tokenIsIndex: true }).map((x) => x.rule), ['token'])
})

test('an end of a lease its holder did not hold, and indexes going back', () => {
  assert.equal(checkLeaseSafety({ log: [grant(3, 'a'), end(4, 'b')] }).map((x) => x.rule), ['holder'])
  assert.equal(checkLeaseSafety({ log: [grant(3, 'a'), end(2, 'a')] }).map((x) => x.rule), ['order'])
})

test('a fenced resource that accepts a stale token, or one never granted', () => {
  const stale = checkLeaseSafety({ log: good, fence: [fence(3, true, 'a'), fence(7, true, 'b'), fence(3, true, 'a')] })
  assert.equal(stale.map((x) => x.rule), ['fence'])
  assert.match(stale[0]!.message, /accepted token 3 from a after token 7/)
  assert.equal(checkLeaseSafety({ log: good, fence: [fence(5, true)] }).map((x) => x.rule), ['fence'])
})

test('replicas that disagree at an index', () => {
  const other = [grant(3, 'a'), end(7, 'a', 'released'), grant(7, 'b')]
  const v = checkLeaseSafety({ log: good, replicas: { n2: other } })
  assert.equal(v.map((x) => x.rule), ['divergence'])
  assert.is(v[0]!.index, 7)
})

test('liveness: a crashed holder\'s lease must end within the bound', () => {
  const log = [grant(3, 'a', 'exclusive', 'job', 100), end(9, 'a', 'expired', 'job', 1400), grant(9, 'b', 'exclusive', 'job', 1400)]
  assert.equal(checkLeaseRelease(log, [{ holder: 'a', atMs: 500 }], 1000, 5000), [])
  assert.equal(checkLeaseRelease(log, [{ holder: 'a', atMs: 500 }], 800, 5000).map((x) => x.rule), ['liveness'])
  const never = [grant(3, 'a', 'exclusive', 'job', 100)]
  assert.equal(checkLeaseRelease(never, [{ holder: 'a', atMs: 500 }], 1000, 5000).map((x) => x.rule), ['liveness'])
  assert.equal(checkLeaseRelease(never, [{ holder: 'a', atMs: 500 }], 1000, 1200), [], 'too late to judge')
})

test.run()
