import { entriesBytes } from './raft-log.js'
import type { Progress } from './progress.js'
import type { Raft } from './raft.js'

/**
 * The leader's sending side: appends with flow control, snapshots in
 * chunks, heartbeats.
 */

/**
 * Sends an append to `to` if its progress calls for one; true if a message
 * went out. `commitAlone`: also when only the commit index is news.
 */
export function maybeSendAppend(r: Raft, to: string, commitAlone = true): boolean {
  const pr = r.tracker.progress.get(to)
  if (pr === undefined || to === r.id) return false
  if (pr.state === 'snapshot') return false
  const last = r.log.lastIndex()
  const commit = r.log.committed
  if (!pr.shouldSendAppend(last, commit, commitAlone)) return false
  const prevIndex = pr.next - 1
  const prevTerm = r.log.term(prevIndex)
  if (prevTerm === undefined) return startSnapshot(r, to, pr)
  let entries = pr.canSendEntries(last) ? r.log.slice(pr.next, last, r.opts.maxMsgBytes) : []
  if (entries === undefined) return startSnapshot(r, to, pr)
  r.send({ type: 'app', to, index: prevIndex, logTerm: prevTerm, commit, entries })
  pr.sentEntries(entries.length, entriesBytes(entries))
  pr.sentCommit(commit)
  return true
}

/** Sends as many appends to `to` as flow control allows. */
export function sendAppends(r: Raft, to: string, commitAlone = true): void {
  // Bounded: each message either advances `next` or sets a flag that stops the next one.
  for (let i = 0; i < r.opts.maxInflightMsgs + 2 && maybeSendAppend(r, to, commitAlone); i++);
}

export function bcastAppend(r: Raft, commitAlone = true): void {
  for (const id of r.tracker.members) if (id !== r.id) maybeSendAppend(r, id, commitAlone)
}

/** The commit index moved: tell the followers now, or (piggybackCommit) with what they get next. */
export function bcastCommit(r: Raft): void {
  bcastAppend(r, !r.opts.piggybackCommit)
}

/** The follower's next entry is compacted away: switch it to snapshot state and start sending. */
function startSnapshot(r: Raft, to: string, pr: Progress): boolean {
  // Do not pour a snapshot into a node that may be down.
  if (!pr.recentActive) return false
  pr.becomeSnapshot(r.log.snapshot.meta.index)
  r.info(`sent snapshot [index: ${pr.pendingSnapshot}, term: ${r.log.snapshot.meta.term}] to ${to} [${pr.describe()}]`)
  sendSnapshotChunks(r, to, pr)
  return true
}

/** Sends snapshot chunks from `pr.snapOffset` while the in-flight window has room. */
export function sendSnapshotChunks(r: Raft, to: string, pr: Progress): void {
  const snap = r.log.snapshot
  if (pr.pendingSnapshot !== snap.meta.index) {
    // We compacted again since the transfer began: send the newer snapshot from the start.
    pr.becomeSnapshot(snap.meta.index)
  }
  const total = snap.data.byteLength
  const chunkBytes = r.opts.maxSnapshotChunkBytes
  while (!pr.snapSentAll && !pr.inflights.full()) {
    const end = Math.min(pr.snapOffset + chunkBytes, total)
    const done = end === total
    r.send({
      type: 'snap', to, meta: snap.meta, offset: pr.snapOffset, totalBytes: total,
      data: snap.data.subarray(pr.snapOffset, end), done,
    })
    pr.inflights.add(end, end - pr.snapOffset)
    pr.snapOffset = end
    pr.snapSentAll = done
  }
}

/** Resends snapshot chunks from the last acknowledged byte. */
export function resendSnapshotFromAck(r: Raft, to: string, pr: Progress, offset: number): void {
  pr.inflights.reset()
  pr.snapOffset = offset
  pr.snapAcked = offset
  pr.snapRewoundAt = offset
  pr.snapSentAll = false
  sendSnapshotChunks(r, to, pr)
}

export function sendHeartbeat(r: Raft, to: string, readSeq: number): void {
  const pr = r.tracker.progress.get(to)!
  // Never tell a follower to commit past what it is known to hold.
  const commit = Math.min(pr.match, r.log.committed)
  r.send({ type: 'heartbeat', to, commit, readSeq })
  pr.sentCommit(commit)
}

export function bcastHeartbeat(r: Raft): void {
  const seq = r.readOnly.lastSeq()
  for (const id of r.tracker.members) if (id !== r.id) sendHeartbeat(r, id, seq)
}

export function sendTimeoutNow(r: Raft, to: string): void {
  r.send({ type: 'timeoutNow', to })
}
