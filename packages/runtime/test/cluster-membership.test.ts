import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Membership } from '../src/cluster/membership.js'
import { BadGossip, membershipFromWire, membershipToWire } from '../src/cluster/membership-wire.js'
import { keepMajority } from '../src/cluster/downing.js'
import { monitoredNodes } from '../src/cluster/monitor-ring.js'
import type { MemberRecord, MemberStatus } from '../src/cluster/member.js'

const rec = (node: string, status: MemberStatus = 'up', incarnation = 1): MemberRecord => ({ node, address: `addr-${node}`, incarnation, status })
const state = (...records: MemberRecord[]) => {
  const m = new Membership()
  for (const r of records) m.put(r)
  return m
}
const DAY = 24 * 3600_000

const Merge = suite('membership merge')

Merge('the larger incarnation wins; within one incarnation status only moves forward', () => {
  const a = state(rec('x', 'up', 1))
  a.merge(state(rec('x', 'joining', 1)), 'a', DAY, 0)
  assert.is(a.get('x')?.status, 'up', 'joining does not undo up')
  a.merge(state(rec('x', 'leaving', 1)), 'a', DAY, 0)
  assert.is(a.get('x')?.status, 'leaving')
  a.merge(state(rec('x', 'joining', 2)), 'a', DAY, 0)
  assert.is(a.get('x')?.incarnation, 2)
  assert.is(a.get('x')?.status, 'joining', 'a new incarnation starts over')
  a.merge(state(rec('x', 'up', 1)), 'a', DAY, 0)
  assert.is(a.get('x')?.incarnation, 2, 'an older incarnation never comes back')
})

Merge('down wins over up, leaving and exiting', () => {
  for (const other of ['up', 'leaving', 'exiting'] as const) {
    const a = state(rec('x', other))
    a.merge(state(rec('x', 'down')), 'a', DAY, 0)
    assert.is(a.get('x')?.status, 'down')
    const b = state(rec('x', 'down'))
    b.merge(state(rec('x', other)), 'b', DAY, 0)
    assert.is(b.get('x')?.status, 'down')
  }
})

Merge('a tombstone keeps a removed incarnation out; a newer incarnation may join', () => {
  const a = state(rec('x', 'down', 3))
  a.remove('x', 3, 1000)
  assert.is(a.get('x'), undefined)
  a.merge(state(rec('x', 'up', 3)), 'a', DAY, 2000)
  assert.is(a.get('x'), undefined, 'same incarnation stays removed')
  assert.not.ok(a.put(rec('x', 'joining', 2)))
  a.merge(state(rec('x', 'joining', 4)), 'a', DAY, 2000)
  assert.is(a.get('x')?.incarnation, 4)
})

Merge('tombstones expire after their maximum age', () => {
  const a = state(rec('x', 'down', 3))
  a.remove('x', 3, 1000)
  assert.ok(a.expireTombstones(1000 + DAY + 1, DAY))
  assert.is(a.tombstoneOf('x'), undefined)
  const b = state()
  b.remove('y', 1, 0)
  a.merge(b, 'a', DAY, DAY + 10)
  assert.is(a.tombstoneOf('y'), undefined, 'an expired tombstone is not taken over')
})

Merge('seen: equal content unions seen sets; new content starts over', () => {
  const a = state(rec('a'), rec('b'))
  a.touch('a')
  const b = a.clone()
  b.seen = new Set(['b'])
  a.merge(b, 'a', DAY, 0)
  assert.equal([...a.seen].sort(), ['a', 'b'])
  const c = a.clone()
  c.setStatus('b', 'leaving')
  c.touch('c')
  const r = a.merge(c, 'a', DAY, 0)
  assert.ok(r.changed)
  assert.not.ok(r.theyLack)
  assert.equal([...a.seen].sort(), ['a', 'c'], 'took over their content: their seen plus self')
  const d = state(rec('a'), rec('b'), rec('d', 'joining'))
  d.touch('d')
  const r2 = a.merge(d, 'a', DAY, 0)
  assert.ok(r2.theyLack)
  assert.equal([...a.seen], ['a'], 'content new to both')
})

Merge('replicas converge whatever the order of exchanges (randomized)', () => {
  let seed = 7
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32)
  const statuses: MemberStatus[] = ['joining', 'up', 'leaving', 'exiting', 'down']
  for (let round = 0; round < 200; round++) {
    const names = ['a', 'b', 'c', 'd', 'e']
    const replicas = names.map(() => new Membership())
    // Random local histories: records, removals and observations.
    for (let i = 0; i < 30; i++) {
      const r = replicas[Math.floor(rand() * replicas.length)]
      const node = names[Math.floor(rand() * names.length)]
      const op = rand()
      if (op < 0.6) r.put(rec(node, statuses[Math.floor(rand() * statuses.length)], 1 + Math.floor(rand() * 3)))
      else if (op < 0.75) r.remove(node, 1 + Math.floor(rand() * 2), Math.floor(rand() * 100))
      else {
        const observer = names[Math.floor(rand() * names.length)]
        const m = r.get(observer)
        if (m) r.observeUnreachable(observer, m.incarnation, names[Math.floor(rand() * names.length)])
      }
    }
    // Random pairwise exchanges, then a full sweep so everyone has heard everyone.
    for (let i = 0; i < 20; i++) {
      const x = Math.floor(rand() * replicas.length)
      const y = Math.floor(rand() * replicas.length)
      replicas[x].merge(replicas[y].clone(), names[x], DAY, 0)
    }
    for (let pass = 0; pass < 2; pass++) for (let x = 0; x < replicas.length; x++) for (let y = 0; y < replicas.length; y++) replicas[x].merge(replicas[y].clone(), names[x], DAY, 0)
    const digests = new Set(replicas.map((r) => r.digest()))
    assert.is(digests.size, 1, `round ${round}: replicas differ`)
    const wires = replicas.map((r) => JSON.stringify({ ...membershipToWire(r), s: [] }))
    assert.ok(wires.every((w) => w === wires[0]), `round ${round}: same digest, different content`)
    assert.ok(replicas.every((r) => r.seen.size === names.length), `round ${round}: everyone has seen the final state`)
  }
})

Merge('merge is idempotent and commutative', () => {
  const a = state(rec('a'), rec('b', 'leaving'), rec('c', 'joining', 2))
  a.observeUnreachable('a', 1, 'b')
  const b = state(rec('a', 'down'), rec('b', 'up'), rec('d'))
  b.remove('c', 2, 5)
  const ab = a.clone()
  ab.merge(b.clone(), 'x', DAY, 0)
  const ba = b.clone()
  ba.merge(a.clone(), 'x', DAY, 0)
  assert.is(ab.digest(), ba.digest())
  const again = ab.clone()
  assert.not.ok(again.merge(ab.clone(), 'x', DAY, 0).changed)
})

Merge.run()

const Reach = suite('reachability')

Reach('unreachable while any observer says so; reachable once all observers see it again', () => {
  const m = state(rec('a'), rec('b'), rec('c'), rec('x'))
  m.observeUnreachable('a', 1, 'x')
  m.observeUnreachable('b', 1, 'x')
  assert.ok(m.unreachable('c').has('x'))
  m.observeReachable('a', 1, 'x')
  assert.ok(m.unreachable('c').has('x'), 'b still cannot reach it')
  m.observeReachable('b', 1, 'x')
  assert.not.ok(m.unreachable('c').has('x'))
})

Reach('a node never finds itself unreachable; observations of down observers do not count', () => {
  const m = state(rec('a'), rec('b'), rec('x'))
  m.observeUnreachable('x', 1, 'a')
  assert.not.ok(m.unreachable('a').has('a'))
  assert.ok(m.unreachable('b').has('a'))
  m.setStatus('x', 'down')
  assert.not.ok(m.unreachable('b').has('a'), 'x is down: its observations are dropped')
})

Reach('observations follow incarnations: a restarted node starts reachable', () => {
  const m = state(rec('a'), rec('x', 'up', 1))
  m.observeUnreachable('a', 1, 'x')
  assert.ok(m.unreachable('a').has('x'))
  m.put(rec('x', 'joining', 2))
  assert.not.ok(m.unreachable('a').has('x'))
})

Reach('an observer record merges by version: the newer one wins', () => {
  const m = state(rec('a'), rec('x'))
  m.observeUnreachable('a', 1, 'x')
  const old = m.clone()
  m.observeReachable('a', 1, 'x')
  m.merge(old, 'b', DAY, 0)
  assert.not.ok(m.unreachable('b').has('x'), 'a stale record does not bring the suspicion back')
})

Reach.run()

const Leader = suite('leader and convergence')

Leader('leader: lowest address among reachable up/leaving members, else joining', () => {
  const m = state(rec('c', 'up'), rec('b', 'leaving'), rec('a', 'joining'))
  assert.is(m.leader('c'), 'b')
  m.observeUnreachable('c', 1, 'b')
  assert.is(m.leader('c'), 'c')
  const boot = state(rec('z', 'joining'), rec('y', 'joining'))
  assert.is(boot.leader('z'), 'y')
})

Leader('convergence: every reachable member in joining..exiting has seen the state', () => {
  const m = state(rec('a'), rec('b'), rec('c', 'joining'), rec('d', 'down'))
  m.touch('a')
  assert.not.ok(m.converged('a'))
  m.seen.add('b')
  assert.not.ok(m.converged('a'))
  m.seen.add('c')
  assert.ok(m.converged('a'), 'down members need not see it')
  const n = m.clone()
  n.observeUnreachable('a', 1, 'b')
  n.touch('a')
  n.seen.add('c')
  assert.ok(n.converged('a'), 'unreachable members are not waited for')
})

Leader.run()

const Wire = suite('membership wire format')

Wire('round trip keeps the digest and seen set', () => {
  const m = state(rec('a'), rec('b', 'leaving', 4), rec('c', 'joining'))
  m.remove('d', 2, 77)
  m.observeUnreachable('a', 1, 'b')
  m.touch('a')
  m.seen.add('c')
  const back = membershipFromWire(structuredClone(membershipToWire(m)))
  assert.is(back.digest(), m.digest())
  assert.equal([...back.seen].sort(), ['a', 'c'])
})

Wire('malformed gossip is rejected with a reason', () => {
  const good = membershipToWire(state(rec('a')))
  const bad: unknown[] = [
    null,
    'x',
    { ...good, m: 'no' },
    { ...good, m: [['a', 'addr', 1, 'sleeping']] },
    { ...good, m: [['a', 'addr', -1, 'up']] },
    { ...good, m: [['a', 'addr', 1.5, 'up']] },
    { ...good, m: [['', 'addr', 1, 'up']] },
    { ...good, m: [['a', 'addr', 1, 'removed']] },
    { ...good, t: [['a', 1]] },
    { ...good, r: [['a', 1, 1, [['b']]]] },
    { ...good, s: [42] },
    { ...good, m: new Array(10_001).fill(['a', 'addr', 1, 'up']) },
  ]
  for (const b of bad) assert.throws(() => membershipFromWire(b), (e: unknown) => e instanceof BadGossip, JSON.stringify(b)?.slice(0, 80))
})

Wire.run()

const Downing = suite('keep-majority')

const members = (up: string[]) => up.map((n) => rec(n))

Downing('3|2: the majority downs the two, the minority downs itself', () => {
  const all = members(['a', 'b', 'c', 'd', 'e'])
  assert.equal(keepMajority({ self: 'a', members: all, unreachable: new Set(['d', 'e']) }).sort(), ['d', 'e'])
  assert.equal(keepMajority({ self: 'd', members: all, unreachable: new Set(['a', 'b', 'c']) }).sort(), ['d', 'e'])
})

Downing('2|2 tie: the side with the lowest address survives', () => {
  const all = members(['a', 'b', 'c', 'd'])
  assert.equal(keepMajority({ self: 'b', members: all, unreachable: new Set(['c', 'd']) }).sort(), ['c', 'd'])
  assert.equal(keepMajority({ self: 'c', members: all, unreachable: new Set(['a', 'b']) }).sort(), ['c', 'd'])
})

Downing('joining members do not count towards the majority but are downed with their side', () => {
  const all = [...members(['a', 'b', 'c']), rec('j1', 'joining'), rec('j2', 'joining')]
  // a alone with two joining nodes against b and c: a minority of up members.
  assert.equal(keepMajority({ self: 'a', members: all, unreachable: new Set(['b', 'c']) }).sort(), ['a', 'j1', 'j2'])
  assert.equal(keepMajority({ self: 'b', members: all, unreachable: new Set(['a', 'j1', 'j2']) }).sort(), ['a', 'j1', 'j2'])
})

Downing('a crashed node in a 5-node cluster is downed; already-down members are ignored', () => {
  const all = [...members(['a', 'b', 'c', 'd']), rec('e', 'down')]
  assert.equal(keepMajority({ self: 'a', members: all, unreachable: new Set(['d', 'e']) }), ['d'])
})

Downing.run()

const Ring = suite('monitoring ring')

Ring('each node heartbeats k others and is heartbeaten by k others, for any N', () => {
  for (const n of [3, 6, 9, 30]) {
    const nodes = Array.from({ length: n }, (_, i) => `node-${i}`)
    const k = 5
    const inDegree = new Map(nodes.map((x) => [x, 0]))
    for (const self of nodes) {
      const targets = monitoredNodes(self, nodes, k, new Set())
      assert.is(targets.length, Math.min(k, n - 1))
      assert.not.ok(targets.includes(self))
      for (const t of targets) inDegree.set(t, inDegree.get(t)! + 1)
    }
    for (const [node, d] of inDegree) assert.is(d, Math.min(k, n - 1), `${node} in a ring of ${n}`)
  }
})

Ring('unreachable successors stay monitored but do not count towards k', () => {
  const nodes = Array.from({ length: 10 }, (_, i) => `n${i}`)
  const normal = monitoredNodes('n0', nodes, 3, new Set())
  const out = monitoredNodes('n0', nodes, 3, new Set([normal[0]]))
  assert.is(out.length, 4)
  assert.ok(out.includes(normal[0]))
})

Ring.run()
