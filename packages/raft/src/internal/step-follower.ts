import type { Snapshot } from '../storage.js'
import type { AppendRequest, HeartbeatRequest, RaftMessage, SnapshotChunk } from './message.js'
import { hup, poll } from './election.js'
import type { Raft } from './raft.js'

/** Messages a follower handles at its own term (etcd's stepFollower). */
export function stepFollower(r: Raft, m: RaftMessage): void {
  switch (m.type) {
    case 'app':
      r.electionElapsed = 0
      r.leader = m.from
      handleAppendEntries(r, m)
      break
    case 'heartbeat':
      r.electionElapsed = 0
      r.leader = m.from
      handleHeartbeat(r, m)
      break
    case 'snap':
      r.electionElapsed = 0
      r.leader = m.from
      handleSnapshotChunk(r, m)
      break
    case 'timeoutNow':
      r.info(`[term ${r.term}] received timeoutNow from ${m.from} and starts an election to get leadership`)
      // A transfer skips the pre-vote: the old leader asked for it, so no partition is being healed.
      hup(r, 'transfer')
      break
    case 'readIndexResp':
      r.readStates.push({ ctx: m.ctx, index: m.index })
      break
    default:
      break
  }
}

/** Messages a (pre-)candidate handles at its own term. */
export function stepCandidate(r: Raft, m: RaftMessage): void {
  // A stale pre-vote response can arrive while we are a candidate; only count our own kind.
  const myResponse = r.role === 'preCandidate' ? 'preVoteResp' : 'voteResp'
  switch (m.type) {
    case 'app':
      r.becomeFollower(m.term, m.from) // m.term == r.term: someone else won
      handleAppendEntries(r, m)
      break
    case 'heartbeat':
      r.becomeFollower(m.term, m.from)
      handleHeartbeat(r, m)
      break
    case 'snap':
      r.becomeFollower(m.term, m.from)
      handleSnapshotChunk(r, m)
      break
    case myResponse:
      poll(r, m.from, !(m as { reject: boolean }).reject)
      break
    default:
      break
  }
}

function handleAppendEntries(r: Raft, m: AppendRequest): void {
  if (m.index < r.log.committed) {
    r.send({ type: 'appResp', to: m.from, index: r.log.committed, reject: false, rejectHint: 0, logTerm: 0 })
    return
  }
  const last = r.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries)
  if (last !== null) {
    r.send({ type: 'appResp', to: m.from, index: last, reject: false, rejectHint: 0, logTerm: 0 })
    return
  }
  // Hint: the largest (index, term) at or below the probe whose term is no
  // more than the leader's term there. Skips our whole divergent tail at once.
  const hint = r.log.findConflictByTerm(Math.min(m.index, r.log.lastIndex()), m.logTerm)
  r.info(
    `[logterm: ${r.log.term(m.index) ?? 0}, index: ${m.index}] rejected app [logterm: ${m.logTerm}, index: ${m.index}] from ${m.from}`,
  )
  r.send({ type: 'appResp', to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term })
}

function handleHeartbeat(r: Raft, m: HeartbeatRequest): void {
  // The leader sends min(our match, its commit), so this never exceeds our log; min() guards a bad peer.
  r.log.commitTo(Math.min(m.commit, r.log.lastIndex()))
  r.send({ type: 'heartbeatResp', to: m.from, readSeq: m.readSeq })
}

function handleSnapshotChunk(r: Raft, m: SnapshotChunk): void {
  const out = r.snapshotReceiver.receive(m)
  r.send({ type: 'snapResp', to: m.from, index: m.meta.index, offset: out.offset, reject: out.reject })
  if (out.snapshot === null) return
  const { index, term } = out.snapshot.meta
  if (restore(r, out.snapshot)) {
    r.info(`[commit: ${r.log.committed}] restored snapshot [index: ${index}, term: ${term}]`)
    r.send({ type: 'appResp', to: m.from, index: r.log.lastIndex(), reject: false, rejectHint: 0, logTerm: 0 })
  } else {
    r.info(`[commit: ${r.log.committed}] ignored snapshot [index: ${index}, term: ${term}]`)
    r.send({ type: 'appResp', to: m.from, index: r.log.committed, reject: false, rejectHint: 0, logTerm: 0 })
  }
}

/** Installs a snapshot from the leader; false if it is old or our log already holds it. */
function restore(r: Raft, s: Snapshot): boolean {
  const { index, term } = s.meta
  if (index <= r.log.committed) return false
  if (r.log.matchTerm(index, term)) {
    // Our log has the snapshot's last entry, so it matches the leader up to there: just commit.
    r.log.commitTo(index)
    return false
  }
  r.log.restore(s)
  r.tracker.setConfig(s.meta.config, r.log.lastIndex() + 1)
  r.configIndex = index
  r.configHistory = []
  return true
}
