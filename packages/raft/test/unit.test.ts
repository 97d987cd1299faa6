import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { bootstrapState, decodeConfChange, emptyState, encodeConfChange, InvariantError, messageProblem, RaftCore, RaftError } from '../src/core.js'
import type { RaftMessage, Ready } from '../src/core.js'
import { applyConfChange } from '../src/internal/conf-change.js'
import { Inflights } from '../src/internal/inflights.js'
import { majorityValue, voteResult } from '../src/internal/quorum.js'
import { RaftLog } from '../src/internal/raft-log.js'

const utf8 = new TextEncoder()

const units = suite('raft units')

units('conf change codec round-trips and rejects garbage', () => {
  for (const cc of [
    { type: 'addVoter', node: 'n1' },
    { type: 'addLearner', node: 'x'.repeat(300) },
    { type: 'removeNode', node: 'ünï' },
  ] as const) {
    assert.equal(decodeConfChange(encodeConfChange(cc)), cc)
  }
  assert.is(decodeConfChange(new Uint8Array([0xa2, 0x61])), null)
  assert.is(decodeConfChange(utf8.encode('{"type":"addVoter"}')), null)
  const bad = encodeConfChange({ type: 'addVoter', node: 'a' })
  bad[7] = 0x62 // corrupt the type string: 'bddVoter'
  assert.is(decodeConfChange(bad), null)
})

units('single-server changes: promote, refuse duplicates and the last voter', () => {
  const c = { voters: ['a', 'b'], learners: ['c'] }
  assert.equal(applyConfChange(c, { type: 'addVoter', node: 'c' }), { voters: ['a', 'b', 'c'], learners: [] })
  assert.type(applyConfChange(c, { type: 'addVoter', node: 'a' }), 'string')
  assert.type(applyConfChange(c, { type: 'addLearner', node: 'a' }), 'string')
  assert.type(applyConfChange({ voters: ['a'], learners: [] }, { type: 'removeNode', node: 'a' }), 'string')
  assert.type(applyConfChange(c, { type: 'removeNode', node: 'z' }), 'string')
})

units('inflights limit by count and by bytes, free in order', () => {
  const f = new Inflights(3, 100)
  f.add(1, 10)
  f.add(2, 10)
  assert.not.ok(f.full())
  f.add(5, 90)
  assert.ok(f.full())
  assert.throws(() => f.add(6, 1), (e: unknown) => e instanceof InvariantError)
  f.freeLE(2)
  assert.is(f.count, 1)
  assert.is(f.bytes, 90)
  assert.not.ok(f.full())
  const g = new Inflights(10, 50)
  g.add(1, 60) // one message may exceed the byte limit on its own
  assert.ok(g.full())
})

units('majority value and vote results', () => {
  const m = new Map([['a', 5], ['b', 3], ['c', 9]])
  assert.is(majorityValue(['a', 'b', 'c'], (id) => m.get(id)!), 5)
  assert.is(majorityValue(['a', 'b', 'c', 'd'], (id) => m.get(id) ?? 0), 3)
  const votes = new Map([['a', true], ['b', false]])
  assert.is(voteResult(['a', 'b', 'c'], votes), 'pending')
  votes.set('c', true)
  assert.is(voteResult(['a', 'b', 'c'], votes), 'won')
  assert.is(voteResult(['a', 'b', 'c'], new Map([['a', false], ['b', false]])), 'lost')
})

units('findConflictByTerm skips a divergent tail in one step', () => {
  // Terms by index 1..9: 1 3 3 4 4 5 5 5 6 (etcd's example).
  const terms = [1, 3, 3, 4, 4, 5, 5, 5, 6]
  const log = new RaftLog(null, terms.map((term, i) => ({ term, index: i + 1, kind: 'normal' as const, data: new Uint8Array(0) })), 0)
  assert.equal(log.findConflictByTerm(8, 3), { index: 3, term: 3 })
  assert.equal(log.findConflictByTerm(9, 6), { index: 9, term: 6 })
  assert.equal(log.findConflictByTerm(5, 0), { index: 0, term: 0 })
})

units('malformed messages are reported, not thrown', () => {
  assert.ok(messageProblem(null))
  assert.ok(messageProblem({ type: 'nope', from: 'a', to: 'b', term: 1 }))
  assert.ok(messageProblem({ type: 'app', from: 'a', to: 'b', term: 1, index: 1, logTerm: 1, commit: 0, entries: [{ index: 5, term: 1, kind: 'normal', data: new Uint8Array() }] }))
  assert.ok(messageProblem({ type: 'heartbeat', from: 'a', to: 'b', term: -1, commit: 0, readSeq: 0 }))
  assert.is(messageProblem({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: 0, readSeq: 0 }), null)
  const core = new RaftCore({ id: 'b', random: () => 0 }, bootstrapState({ voters: ['a', 'b'], learners: [] }))
  core.step({ type: 'app', from: 'a', to: 'b', term: 1 } as unknown as RaftMessage)
  assert.is(core.status().term, 0)
})

units.run()

const api = suite('RaftCore API')

/** Drives one node until it has nothing to do; returns what it sent. */
function drain(core: RaftCore): RaftMessage[] {
  const sent: RaftMessage[] = []
  for (let i = 0; i < 100 && core.hasReady(); i++) {
    const rd: Ready = core.ready()
    sent.push(...rd.messages, ...rd.messagesAfterPersist)
    core.advance(rd)
  }
  return sent
}

function singleLeader(): RaftCore {
  const core = new RaftCore({ id: 'a', random: () => 0 }, bootstrapState({ voters: ['a'], learners: [] }))
  core.campaign()
  drain(core)
  assert.is(core.status().role, 'leader')
  return core
}

api('a single voter elects itself, commits and serves reads after its no-op', () => {
  const core = singleLeader()
  const h = core.propose(utf8.encode('x'))
  core.readIndex('r')
  const rd = core.ready()
  assert.equal(rd.entries.map((e) => e.index), [h.index])
  // The read was issued before x committed: it need not see x.
  assert.equal(rd.readStates, [{ ctx: 'r', index: h.index - 1 }])
  core.advance(rd)
  const rd2 = core.ready()
  assert.equal(rd2.committedEntries.map((e) => e.index), [h.index])
  core.advance(rd2)
})

api('followers refuse proposals with a leader hint; ready twice without advance is a bug', () => {
  const core = new RaftCore({ id: 'b', random: () => 0 }, bootstrapState({ voters: ['a', 'b', 'c'], learners: [] }))
  core.step({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commit: 1, readSeq: 0 })
  try {
    core.propose(utf8.encode('x'))
    assert.unreachable()
  } catch (e) {
    assert.instance(e, RaftError)
    assert.is((e as RaftError).code, 'NOT_LEADER')
    assert.is((e as RaftError).leaderHint, 'a')
  }
  core.ready()
  assert.throws(() => core.ready(), (e: unknown) => e instanceof InvariantError)
})

api('uncommitted bytes are capped', () => {
  const core = new RaftCore({ id: 'a', random: () => 0, maxUncommittedBytes: 10, preVote: false }, bootstrapState({ voters: ['a', 'b', 'c'], learners: [] }))
  core.campaign()
  drain(core)
  core.step({ type: 'voteResp', from: 'b', to: 'a', term: 1, reject: false })
  drain(core)
  assert.is(core.status().role, 'leader')
  core.propose(new Uint8Array(8))
  core.propose(new Uint8Array(2))
  try {
    core.propose(new Uint8Array(1))
    assert.unreachable()
  } catch (e) {
    assert.is((e as RaftError).code, 'PROPOSAL_DROPPED')
  }
})

api('compaction only up to applied; joining node starts empty', () => {
  const core = singleLeader()
  core.propose(utf8.encode('x'))
  assert.throws(() => core.compact(core.status().lastIndex, new Uint8Array()), (e: unknown) => (e as RaftError).code === 'COMPACT_REJECTED')
  drain(core)
  const snap = core.compact(core.status().applied, utf8.encode('state'))
  assert.ok(snap)
  assert.is(snap!.meta.index, core.status().applied)
  assert.is(core.status().firstIndex, snap!.meta.index + 1)
  assert.is(core.compact(snap!.meta.index, new Uint8Array()), null)
  const joiner = new RaftCore({ id: 'z', random: () => 0 }, emptyState())
  joiner.campaign()
  assert.is(joiner.status().role, 'follower')
})

/** Three cores that talk through a queue until none has anything to do; counts the messages sent. */
function trio(piggybackCommit: boolean) {
  const ids = ['a', 'b', 'c']
  const cores = new Map(ids.map((id) => [id, new RaftCore({ id, random: () => 0, piggybackCommit }, bootstrapState({ voters: ids, learners: [] }))]))
  const sent: RaftMessage[] = []
  const settle = () => {
    for (let round = 0; round < 100; round++) {
      const out: RaftMessage[] = []
      for (const core of cores.values()) {
        if (!core.hasReady()) continue
        const rd = core.ready()
        out.push(...rd.messages, ...rd.messagesAfterPersist)
        core.advance(rd)
      }
      if (out.length === 0) return
      sent.push(...out)
      for (const m of out) cores.get(m.to)!.step(m)
    }
    throw new Error('the trio did not settle')
  }
  cores.get('a')!.campaign()
  settle()
  assert.is(cores.get('a')!.status().role, 'leader')
  return { cores, sent, settle }
}

api('piggybackCommit: a write sends no commit-only append; followers learn the index from the next heartbeat', () => {
  for (const piggyback of [false, true]) {
    const { cores, sent, settle } = trio(piggyback)
    const a = cores.get('a')!
    sent.length = 0
    const h = a.propose(utf8.encode('x'))
    settle()
    const appends = sent.filter((m) => m.type === 'app') as Extract<RaftMessage, { type: 'app' }>[]
    const commitOnly = appends.filter((m) => m.entries.length === 0)
    // The leader commits (and could answer) at once either way.
    assert.is(a.status().commit, h.index)
    if (!piggyback) {
      assert.is(commitOnly.length, 2, 'eager: one empty append per follower for the new commit index')
      for (const id of ['b', 'c']) assert.is(cores.get(id)!.status().commit, h.index)
      continue
    }
    assert.is(commitOnly.length, 0, 'piggyback: no append carries only the commit index')
    assert.is(appends.length, 2, 'one append per follower for the write')
    for (const id of ['b', 'c']) assert.ok(cores.get(id)!.status().commit < h.index, `${id} has not heard the commit yet`)
    // The next write carries it ...
    const h2 = a.propose(utf8.encode('y'))
    settle()
    for (const id of ['b', 'c']) assert.is(cores.get(id)!.status().commit, h.index, `${id} learned the first commit from the second append`)
    // ... and so does the next heartbeat when nothing else goes out.
    a.tick()
    settle()
    for (const id of ['b', 'c']) assert.is(cores.get(id)!.status().commit, h2.index, `${id} learned the commit from a heartbeat`)
  }
})

api.run()
