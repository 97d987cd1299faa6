import type { ClusterConfig, Entry, PersistedState } from '../storage.js'
import { describeConfig } from './conf-change.js'
import { handleVote, hup, promotable } from './election.js'
import { invariant } from './errors.js'
import type { OutgoingMessage, RaftMessage, ReadContext } from './message.js'
import { needsPersist } from './message.js'
import { resolveOptions, type RaftOptions, type ResolvedOptions } from './options.js'
import { RaftLog } from './raft-log.js'
import { ReadOnly } from './read-only.js'
import { bcastHeartbeat } from './replication.js'
import { SnapshotReceiver } from './snapshot-receiver.js'
import { stepCandidate, stepFollower } from './step-follower.js'
import { stepLeader } from './step-leader.js'
import { Tracker } from './tracker.js'

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader'

/** A confirmed linearizable read: serve it once the state machine has applied `index`. */
export interface ReadState {
  ctx: ReadContext
  index: number
}

/**
 * The Raft algorithm for one group (etcd's raft.go): pure state, fed by
 * step() and tick(); its outputs (messages, log changes) are collected by
 * RaftCore into Ready batches. Elections live in election.ts, applying config
 * changes in reconfiguration.ts, role-specific handling in step-*.ts, sending
 * in replication.ts.
 */
export class Raft {
  readonly id: string
  readonly opts: ResolvedOptions
  term: number
  vote: string | null
  role: Role = 'follower'
  leader: string | null = null
  readonly log: RaftLog
  readonly tracker: Tracker
  readonly readOnly: ReadOnly
  readonly snapshotReceiver = new SnapshotReceiver()

  /** Ticks since the last election timeout (follower: since hearing from the leader). */
  electionElapsed = 0
  heartbeatElapsed = 0
  randomizedElectionTimeout = 0
  /** The node leadership is being transferred to, or null. */
  leadTransferee: string | null = null
  /** Index of the newest config change the leader appended (or its first no-op); a new change waits until it is applied. */
  pendingConfIndex = 0
  /** Payload bytes the leader appended in its term and not yet handed out as committed. */
  uncommittedBytes = 0
  /** Index of the entry (or snapshot) that produced the active configuration. */
  configIndex: number
  /** Configurations applied since the snapshot, so compact() can record the config at its index. */
  configHistory: Array<{ index: number; config: ClusterConfig }> = []

  /** Outputs, drained by RaftCore.ready(). */
  msgs: RaftMessage[] = []
  msgsAfterPersist: RaftMessage[] = []
  /** Responses to ourselves (our own vote): stepped on advance, once the state they vouch for is durable. */
  selfMsgs: RaftMessage[] = []
  /** Confirmed reads waiting for the application to reach their index. */
  readStates: ReadState[] = []

  constructor(options: RaftOptions, persisted: PersistedState) {
    this.opts = resolveOptions(options)
    this.id = this.opts.id
    this.readOnly = new ReadOnly(this.opts.maxPendingReads)
    this.tracker = new Tracker(this.opts.maxInflightMsgs, this.opts.maxInflightBytes)
    const hs = persisted.hardState
    this.log = new RaftLog(persisted.snapshot, persisted.entries, hs.commit)
    this.term = hs.term
    this.vote = hs.vote
    this.tracker.setConfig(this.log.snapshot.meta.config, this.log.lastIndex() + 1)
    this.configIndex = this.log.snapshot.meta.index
    this.becomeFollower(this.term, null)
    this.info(
      `started [${describeConfig(this.tracker.config())}, term: ${this.term}, commit: ${this.log.committed}, ` +
        `applied: ${this.log.applied}, lastindex: ${this.log.lastIndex()}, lastterm: ${this.log.lastTerm()}]`,
    )
  }

  info(line: string): void {
    this.opts.log?.(`${this.id} ${line}`)
  }

  /** Queues a message; fills in `from` and, unless set, `term`. */
  send(m: OutgoingMessage): void {
    // Filled in place: the literal was built for this call alone.
    const msg = m as RaftMessage
    msg.from = this.id
    if (m.term === undefined) msg.term = this.term
    if (msg.to === this.id) this.selfMsgs.push(msg)
    else if (needsPersist(msg)) this.msgsAfterPersist.push(msg)
    else this.msgs.push(msg)
  }

  // --- transitions -------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term
      this.vote = null
    }
    this.leader = null
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    this.randomizedElectionTimeout =
      this.opts.electionTicks + Math.floor(this.opts.random() * this.opts.electionTicks)
    this.leadTransferee = null
    this.tracker.resetVotes()
    this.tracker.resetProgress(this.log.lastIndex() + 1)
    const self = this.tracker.progress.get(this.id)
    if (self !== undefined) self.match = this.log.stable
    this.pendingConfIndex = 0
    this.uncommittedBytes = 0
    this.readOnly.reset()
  }

  becomeFollower(term: number, leader: string | null): void {
    this.reset(term)
    this.role = 'follower'
    this.leader = leader
    this.info(`became follower at term ${this.term}`)
  }

  becomePreCandidate(): void {
    invariant(this.role !== 'leader', 'leader cannot become pre-candidate')
    // The term does not change: a pre-candidate that loses leaves no trace.
    this.tracker.resetVotes()
    this.leader = null
    this.role = 'preCandidate'
    this.info(`became pre-candidate at term ${this.term}`)
  }

  becomeCandidate(): void {
    invariant(this.role !== 'leader', 'leader cannot become candidate')
    this.reset(this.term + 1)
    this.vote = this.id
    this.role = 'candidate'
    this.info(`became candidate at term ${this.term}`)
  }

  becomeLeader(): void {
    invariant(this.role === 'candidate', 'only a candidate can become leader')
    this.reset(this.term)
    this.leader = this.id
    this.role = 'leader'
    const self = this.tracker.progress.get(this.id)
    if (self !== undefined) {
      self.becomeReplicate()
      self.recentActive = true
    }
    this.snapshotReceiver.clear()
    // The no-op of our term: reads wait for it to commit, and so do config
    // changes (the fix to single-server changes: no change may be appended
    // before an entry of the new term commits).
    this.appendEntries([{ term: 0, index: 0, kind: 'normal', data: new Uint8Array(0) }])
    this.pendingConfIndex = this.log.lastIndex()
    this.info(`became leader at term ${this.term}`)
  }

  /** Assigns term and index to new entries and appends them; false if the uncommitted cap refuses them. */
  appendEntries(entries: Entry[]): boolean {
    let bytes = 0
    for (const e of entries) bytes += e.data.byteLength
    const cap = this.opts.maxUncommittedBytes
    if (cap > 0 && this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > cap) return false
    const last = this.log.lastIndex()
    entries.forEach((e, i) => {
      e.term = this.term
      e.index = last + 1 + i
    })
    this.uncommittedBytes += bytes
    this.log.append(entries)
    return true
  }

  // --- ticks -------------------------------------------------------------

  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat()
    else this.tickElection()
  }

  private tickElection(): void {
    this.electionElapsed++
    if (promotable(this) && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0
      hup(this, this.opts.preVote ? 'preElection' : 'election')
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++
    this.electionElapsed++
    if (this.electionElapsed >= this.opts.electionTicks) {
      this.electionElapsed = 0
      if (this.opts.checkQuorum) this.checkQuorum()
      if (this.role === 'leader' && this.leadTransferee !== null) {
        this.info(`abandoned leadership transfer to ${this.leadTransferee}: not done within an election timeout`)
        this.abortLeaderTransfer()
      }
    }
    if (this.role !== 'leader') return
    if (this.heartbeatElapsed >= this.opts.heartbeatTicks) {
      this.heartbeatElapsed = 0
      bcastHeartbeat(this)
    }
  }

  private checkQuorum(): void {
    if (!this.tracker.quorumActive(this.id)) {
      this.info(`stepped down to follower since quorum is not active`)
      this.becomeFollower(this.term, null)
      return
    }
    for (const [id, pr] of this.tracker.progress) if (id !== this.id) pr.recentActive = false
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = null
  }

  // --- messages ----------------------------------------------------------

  /** Applies the term rules common to all roles, then dispatches by role. */
  step(m: RaftMessage): void {
    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        const inLease = this.opts.checkQuorum && this.leader !== null && this.electionElapsed < this.opts.electionTicks
        if (!m.transfer && inLease) {
          // We heard from a leader within the election timeout: this candidate is disruptive, not needed.
          this.info(
            `[logterm: ${this.log.lastTerm()}, index: ${this.log.lastIndex()}, vote: ${this.vote ?? 0}] ignored ${m.type} from ${m.from} ` +
              `[logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}: lease is not expired (remaining ticks: ${this.opts.electionTicks - this.electionElapsed})`,
          )
          return
        }
      }
      if (m.type === 'preVote' || (m.type === 'preVoteResp' && !m.reject)) {
        // Pre-votes carry a future term; granting or receiving one never changes ours.
      } else {
        this.info(`[term: ${this.term}] received a ${m.type} message with higher term from ${m.from} [term: ${m.term}]`)
        const fromLeader = m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap'
        this.becomeFollower(m.term, fromLeader ? m.from : null)
      }
    } else if (m.term < this.term) {
      if ((this.opts.checkQuorum || this.opts.preVote) && (m.type === 'heartbeat' || m.type === 'app')) {
        // A stale leader (or one whose partition healed): tell it our term so it steps down.
        this.send({ type: 'appResp', to: m.from, index: 0, reject: false, rejectHint: 0, logTerm: 0 })
      } else if (m.type === 'preVote') {
        this.info(`[logterm: ${this.log.lastTerm()}, index: ${this.log.lastIndex()}, vote: ${this.vote ?? 0}] rejected preVote from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`)
        this.send({ type: 'preVoteResp', to: m.from, reject: true })
      } else {
        this.info(`[term: ${this.term}] ignored a ${m.type} message with lower term from ${m.from} [term: ${m.term}]`)
      }
      return
    }

    if (m.type === 'vote' || m.type === 'preVote') {
      handleVote(this, m)
      return
    }
    if (this.role === 'leader') stepLeader(this, m)
    else if (this.role === 'follower') stepFollower(this, m)
    else stepCandidate(this, m)
  }

  // --- configuration -----------------------------------------------------

  /** The configuration in force after applying index `index` (index >= snapshot index). */
  configAt(index: number): ClusterConfig {
    let config = this.log.snapshot.meta.config
    for (const h of this.configHistory) if (h.index <= index) config = h.config
    return config
  }

  // --- leader commit -----------------------------------------------------

  /** Moves the commit index to what a quorum holds durably, if that entry is of our term. */
  maybeCommit(): boolean {
    const committed = this.log.maybeCommit(this.tracker.committed(), this.term)
    if (committed) this.onCommittedInTerm()
    return committed
  }

  committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term
  }

  /** Reads parked until the first commit of the term can now be served. */
  private onCommittedInTerm(): void {
    for (const w of this.readOnly.takeWaiting()) this.readIndexAsLeader(w.ctx, w.from)
  }

  /** Registers a read on the leader (for itself or a follower). */
  readIndexAsLeader(ctx: ReadContext, from: string): boolean {
    if (this.readOnly.full()) return false
    if (!this.committedEntryInCurrentTerm()) {
      // Our commit index may lag what earlier leaders committed until an entry of our term commits.
      this.readOnly.wait(ctx, from)
      return true
    }
    const index = this.log.committed
    if (this.opts.readOnly === 'lease' || (this.tracker.isSingleton() && this.tracker.isVoter(this.id))) {
      this.deliverRead(ctx, from, index)
      return true
    }
    this.readOnly.add(index, ctx, from)
    bcastHeartbeat(this)
    return true
  }

  deliverRead(ctx: ReadContext, from: string, index: number): void {
    if (from === this.id) this.readStates.push({ ctx, index })
    else this.send({ type: 'readIndexResp', to: from, ctx, index })
  }
}
