import { Inflights } from './inflights.js'

/**
 * How the leader replicates to one follower.
 * - probe: one append per heartbeat round until the follower's match is found.
 * - replicate: optimistic pipelining; `next` runs ahead of `match`.
 * - snapshot: the follower needs a snapshot; appends are paused while it is sent in chunks.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot'

/** The leader's view of one follower (etcd's tracker.Progress). */
export class Progress {
  /** Highest index known to match the leader's log. Invariant: 0 <= match < next. */
  match = 0
  /** Next index to send. Entries in (match, next) are in flight. */
  next: number
  /** Highest commit index sent to the follower. Invariant: pendingCommit < next. */
  pendingCommit = 0
  state: ProgressState = 'probe'
  /** In snapshot state: index of the snapshot being sent. */
  pendingSnapshot = 0
  /** Next byte offset of the snapshot to send, and contiguous bytes the follower acknowledged. */
  snapOffset = 0
  snapAcked = 0
  /** The last chunk has been sent (the follower may still need to ack it). */
  snapSentAll = false
  /** Offset the leader last rewound to after a reject; further rejects of it are stale. */
  snapRewoundAt = -1
  /** Set when a chunk ack made progress since the last heartbeat response; clear means resend. */
  snapProgressed = false
  /** Heard from since the last CheckQuorum round. Always true for the leader itself. */
  recentActive = false
  /** Set after an append is sent in probe state (or with nothing new in replicate state); a heartbeat response clears it. */
  probeSent = false
  /** Highest ReadIndex sequence the follower has acknowledged by a heartbeat response. */
  readAck = 0
  readonly inflights: Inflights

  constructor(next: number, maxInflightMsgs: number, maxInflightBytes: number, public isLearner: boolean) {
    this.next = next
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes)
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false
    this.pendingSnapshot = 0
    this.snapOffset = 0
    this.snapAcked = 0
    this.snapSentAll = false
    this.snapRewoundAt = -1
    this.snapProgressed = false
    this.state = state
    this.inflights.reset()
  }

  becomeProbe(): void {
    // After a snapshot, probe from just past it even if no ack has come yet.
    if (this.state === 'snapshot') {
      const snap = this.pendingSnapshot
      this.resetState('probe')
      this.next = Math.max(this.match + 1, snap + 1)
    } else {
      this.resetState('probe')
      this.next = this.match + 1
      this.pendingCommit = Math.min(this.pendingCommit, this.match)
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate')
    this.next = this.match + 1
    this.pendingCommit = Math.min(this.pendingCommit, this.match)
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot')
    this.pendingSnapshot = snapshotIndex
    // The first heartbeat round is grace: chunks may still be on their way.
    this.snapProgressed = true
  }

  /** Records an append of `count` entries (of `bytes` payload) starting at `next`. */
  sentEntries(count: number, bytes: number): void {
    if (this.state === 'replicate' && count > 0) {
      this.next += count
      this.inflights.add(this.next - 1, bytes)
    }
    this.probeSent = true
  }

  sentCommit(commit: number): void {
    this.pendingCommit = Math.min(Math.max(this.pendingCommit, commit), this.next - 1)
  }

  /** True if sending `commit` may advance the follower's commit index. */
  canBumpCommit(commit: number): boolean {
    return this.pendingCommit < Math.min(commit, this.next - 1)
  }

  /** True if flow control lets at least one entry go out. */
  canSendEntries(lastIndex: number): boolean {
    return this.next <= lastIndex && (this.state === 'probe' || !this.inflights.full())
  }

  /**
   * Whether the leader should send an append now. In probe state one per
   * heartbeat round; in replicate state while entries are pending and
   * limits allow, plus an empty probe now and then so that a window of
   * dropped messages is discovered, and (if `commitAlone`) when only the
   * commit index is news.
   */
  shouldSendAppend(lastIndex: number, commit: number, commitAlone: boolean): boolean {
    switch (this.state) {
      case 'probe':
        return !this.probeSent
      case 'replicate':
        return (commitAlone && this.canBumpCommit(commit)) || (this.match < lastIndex && (!this.probeSent || this.canSendEntries(lastIndex)))
      case 'snapshot':
        return false
    }
  }

  /** Handles an accepted append response; false if it is stale. */
  maybeUpdate(index: number): boolean {
    if (index <= this.match) return false
    this.match = index
    this.next = Math.max(this.next, index + 1)
    return true
  }

  /**
   * Handles a rejected append of `rejected`, moving `next` back towards
   * `matchHint + 1`. False if the rejection is stale (reordered or duplicated).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false
      this.next = this.match + 1
      this.pendingCommit = Math.min(this.pendingCommit, this.match)
      return true
    }
    // Probes go one at a time, so only a rejection of next-1 is current.
    if (this.next - 1 !== rejected) return false
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1)
    this.pendingCommit = Math.min(this.pendingCommit, this.next - 1)
    this.probeSent = false
    return true
  }

  describe(): string {
    let s = `${this.state} match=${this.match} next=${this.next}`
    if (this.isLearner) s += ' learner'
    if (this.pendingSnapshot > 0) s += ` pendingSnap=${this.pendingSnapshot}`
    if (!this.recentActive) s += ' inactive'
    if (this.inflights.count > 0) s += ` inflight=${this.inflights.count}${this.inflights.full() ? '[full]' : ''}`
    return s
  }
}
