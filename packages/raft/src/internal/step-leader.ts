import { RaftError } from './errors.js'
import type { AppendResponse, HeartbeatResponse, RaftMessage, SnapshotChunkAck } from './message.js'
import type { Progress } from './progress.js'
import type { Raft } from './raft.js'
import {
  bcastCommit, maybeSendAppend, resendSnapshotFromAck, sendAppends, sendSnapshotChunks, sendTimeoutNow,
} from './replication.js'

/** Messages a leader handles at its own term (etcd's stepLeader). */
export function stepLeader(r: Raft, m: RaftMessage): void {
  if (m.type === 'readIndex') {
    if (!r.readIndexAsLeader(m.ctx, m.from)) r.info(`dropped readIndex from ${m.from}: too many pending reads`)
    return
  }
  if (m.type !== 'appResp' && m.type !== 'heartbeatResp' && m.type !== 'snapResp') return
  const pr = r.tracker.progress.get(m.from)
  if (pr === undefined) {
    r.info(`no progress available for ${m.from}`)
    return
  }
  if (m.type === 'appResp') handleAppendResponse(r, m, pr)
  else if (m.type === 'heartbeatResp') handleHeartbeatResponse(r, m, pr)
  else handleSnapshotAck(r, m, pr)
}

function handleAppendResponse(r: Raft, m: AppendResponse, pr: Progress): void {
  pr.recentActive = true
  if (m.reject) {
    r.info(`received appResp(rejected, hint: (index ${m.rejectHint}, term ${m.logTerm})) from ${m.from} for index ${m.index}`)
    // Skip every index whose term in our log exceeds the follower's term at
    // the hint: a probe there must fail too. At most one probe per term.
    let next = m.rejectHint
    if (m.logTerm > 0) next = r.log.findConflictByTerm(m.rejectHint, m.logTerm).index
    if (pr.maybeDecrTo(m.index, next)) {
      if (pr.state === 'replicate') pr.becomeProbe()
      r.info(`decreased progress of ${m.from} to [${pr.describe()}]`)
      maybeSendAppend(r, m.from)
    }
    return
  }
  // A probe that matches at `match` moves the follower back to replicate.
  if (!pr.maybeUpdate(m.index) && !(pr.match === m.index && pr.state === 'probe')) return
  if (pr.state === 'probe') pr.becomeReplicate()
  else if (pr.state === 'snapshot' && pr.match + 1 >= r.log.firstIndex()) {
    r.info(`recovered from needing snapshot, resumed sending replication messages to ${m.from}`)
    pr.becomeProbe()
    pr.becomeReplicate()
  } else if (pr.state === 'replicate') pr.inflights.freeLE(m.index)

  if (r.maybeCommit()) bcastCommit(r)
  sendAppends(r, m.from, !r.opts.piggybackCommit)
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) {
    r.info(`sent timeoutNow to ${m.from} after it caught up`)
    sendTimeoutNow(r, m.from)
  }
}

function handleHeartbeatResponse(r: Raft, m: HeartbeatResponse, pr: Progress): void {
  pr.recentActive = true
  pr.probeSent = false
  if (pr.state === 'snapshot') retrySnapshot(r, m.from, pr)
  // Also when all is in flight: an empty append reveals a window of dropped messages.
  if (pr.match < r.log.lastIndex() || pr.state === 'probe') maybeSendAppend(r, m.from)
  if (m.readSeq > pr.readAck) {
    pr.readAck = m.readSeq
    releaseReads(r)
  }
}

/** A heartbeat round passed in snapshot state: resend if no chunk ack made progress. */
function retrySnapshot(r: Raft, to: string, pr: Progress): void {
  if (!pr.snapProgressed) {
    const snap = r.log.snapshot
    if (pr.pendingSnapshot === snap.meta.index && pr.snapSentAll && pr.snapAcked >= snap.data.byteLength) {
      // The follower holds the whole snapshot; its append response was lost. Probe past it.
      pr.becomeProbe()
    } else {
      resendSnapshotFromAck(r, to, pr, pr.snapAcked)
    }
  }
  pr.snapProgressed = false
}

function handleSnapshotAck(r: Raft, m: SnapshotChunkAck, pr: Progress): void {
  if (pr.state !== 'snapshot' || m.index !== pr.pendingSnapshot) return
  pr.recentActive = true
  if (m.reject) {
    // A gap at the follower: go back to its last contiguous byte, once per gap.
    if (m.offset < pr.snapAcked || m.offset === pr.snapRewoundAt) return
    pr.snapProgressed = true
    resendSnapshotFromAck(r, m.from, pr, m.offset)
    return
  }
  if (m.offset > pr.snapAcked) {
    pr.snapAcked = m.offset
    pr.inflights.freeLE(m.offset)
    pr.snapProgressed = true
    sendSnapshotChunks(r, m.from, pr)
  }
}

/** Serves every read whose heartbeat round a quorum has acknowledged. */
export function releaseReads(r: Raft): void {
  const acked = r.tracker.readAcked(r.id, Number.MAX_SAFE_INTEGER)
  for (const read of r.readOnly.release(acked)) r.deliverRead(read.ctx, read.from, read.index)
}

/** Starts handing leadership to `to`: catch it up, then tell it to campaign at once. */
export function transferLeadership(r: Raft, to: string): void {
  if (r.role !== 'leader') throw new RaftError('NOT_LEADER', `${r.id} is not the leader`, r.leader)
  if (to === r.id) return
  const pr = r.tracker.progress.get(to)
  if (pr === undefined || pr.isLearner) throw new RaftError('TRANSFER_REJECTED', `${to} is not a voter`)
  if (r.leadTransferee === to) {
    r.info(`[term ${r.term}] transfer leadership to ${to} is in progress, ignores request to same node ${to}`)
    return
  }
  if (r.leadTransferee !== null) {
    r.info(`[term ${r.term}] abort previous transferring leadership to ${r.leadTransferee}`)
    r.abortLeaderTransfer()
  }
  r.info(`[term ${r.term}] starts to transfer leadership to ${to}`)
  // The transfer must finish within an election timeout, or it is abandoned.
  r.electionElapsed = 0
  r.leadTransferee = to
  if (pr.match === r.log.lastIndex()) {
    r.info(`sends timeoutNow to ${to} immediately as ${to} already has up-to-date log`)
    sendTimeoutNow(r, to)
  } else {
    maybeSendAppend(r, to)
  }
}
