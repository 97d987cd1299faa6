import type { ClusterConfig, Entry, HardState, PersistedState, Snapshot } from '../storage.js'
import { encodeConfChange, applyConfChange, type ConfChange } from './conf-change.js'
import { hup } from './election.js'
import { invariant, RaftError } from './errors.js'
import { messageProblem, type RaftMessage, type ReadContext } from './message.js'
import type { RaftOptions } from './options.js'
import type { ProgressState } from './progress.js'
import { Raft, type ReadState, type Role } from './raft.js'
import type { Ready, SoftState } from './ready.js'
import { applyConfEntry } from './reconfiguration.js'
import { bcastAppend, bcastCommit } from './replication.js'
import { transferLeadership } from './step-leader.js'

export interface ProposalHandle {
  index: number
  term: number
}

export interface PeerStatus {
  id: string
  state: ProgressState
  match: number
  next: number
  isLearner: boolean
  recentActive: boolean
  inflight: number
}

export interface RaftStatus {
  id: string
  role: Role
  leader: string | null
  term: number
  vote: string | null
  commit: number
  applied: number
  firstIndex: number
  lastIndex: number
  config: ClusterConfig
  leadTransferee: string | null
  /** Only on the leader. */
  progress: PeerStatus[]
}

interface Outstanding {
  rd: Ready
  selfMsgs: RaftMessage[]
}

/**
 * The public face of the Raft algorithm (etcd's RawNode): feed it ticks,
 * messages and proposals; take Ready batches of effects; call advance()
 * once a batch is handled. Pure: no I/O, timers, clocks or ambient
 * randomness. Not reentrant; one Ready may be outstanding at a time.
 */
export class RaftCore {
  private readonly r: Raft
  private prevSoft: SoftState
  private prevHard: HardState
  private outstanding: Outstanding | null = null
  /** New proposals are waiting to be broadcast. */
  private bcastPending = false

  constructor(options: RaftOptions, persisted: PersistedState) {
    this.r = new Raft(options, persisted)
    this.prevSoft = this.softState()
    this.prevHard = this.hardState()
  }

  get id(): string {
    return this.r.id
  }

  /** Advances logical time by one tick (election and heartbeat timeouts are counted in ticks). */
  tick(): void {
    this.r.tick()
  }

  /** Handles a message from a peer. Malformed messages are dropped with a log line, never thrown. */
  step(m: RaftMessage): void {
    const problem = messageProblem(m)
    if (problem !== null) {
      this.r.info(`dropped malformed message: ${problem}`)
      return
    }
    if (m.to !== this.r.id) {
      this.r.info(`dropped message addressed to ${m.to}`)
      return
    }
    if (m.from === this.r.id) {
      this.r.info(`dropped message claiming to come from itself`)
      return
    }
    this.r.step(m)
  }

  /** Starts an election now (pre-vote first if enabled), as if the election timeout fired. */
  campaign(): void {
    hup(this.r, this.r.opts.preVote ? 'preElection' : 'election')
  }

  /** Appends a command on the leader. Resolve the client once the entry at `index` with `term` is applied. */
  propose(data: Uint8Array): ProposalHandle {
    return this.appendOnLeader({ term: 0, index: 0, kind: 'normal', data })
  }

  /** Proposes a single-server membership change; it takes effect when applied. */
  proposeConfChange(cc: ConfChange): ProposalHandle {
    const r = this.r
    this.checkCanPropose()
    if (r.pendingConfIndex > r.log.applied) {
      throw new RaftError(
        'CONF_CHANGE_REJECTED',
        `the config change or first entry of this term at index ${r.pendingConfIndex} is not applied yet (applied: ${r.log.applied})`,
      )
    }
    const next = applyConfChange(r.tracker.config(), cc)
    if (typeof next === 'string') throw new RaftError('CONF_CHANGE_REJECTED', next)
    const handle = this.appendOnLeader({ term: 0, index: 0, kind: 'config', data: encodeConfChange(cc) })
    r.pendingConfIndex = handle.index
    return handle
  }

  /**
   * Asks for a linearizable read. The answer comes as a ReadState with the
   * same ctx in a later Ready (or never, if leadership changes: retry on a
   * timeout). Followers forward the request to the leader.
   */
  readIndex(ctx: ReadContext): void {
    const r = this.r
    if (r.role === 'leader') {
      if (!r.readIndexAsLeader(ctx, r.id)) throw new RaftError('READ_DROPPED', `too many pending reads (${r.opts.maxPendingReads})`)
      return
    }
    if (r.leader === null) throw new RaftError('NOT_LEADER', `${r.id} knows no leader at term ${r.term}`, null)
    r.send({ type: 'readIndex', to: r.leader, ctx })
  }

  /** On the leader: hands leadership to `to` once it has caught up. Proposals are dropped meanwhile. */
  transferLeadership(to: string): void {
    transferLeadership(this.r, to)
  }

  /**
   * The application snapshotted its state machine after applying `index`
   * (<= the last advanced committed entry). Entries up to `index` leave
   * memory; the returned snapshot must be saved to storage by the caller,
   * and it is what lagging followers will be sent. False-y result (null)
   * if `index` is already compacted.
   */
  compact(index: number, data: Uint8Array): Snapshot | null {
    const log = this.r.log
    if (index <= log.snapshot.meta.index) return null
    if (index > log.applied) throw new RaftError('COMPACT_REJECTED', `cannot compact to ${index}: applied is ${log.applied}`)
    const snapshot: Snapshot = { meta: { index, term: log.term(index)!, config: this.r.configAt(index) }, data }
    log.compact(snapshot)
    this.r.configHistory = this.r.configHistory.filter((h) => h.index > index)
    return snapshot
  }

  hasReady(): boolean {
    if (this.outstanding !== null) return false
    const r = this.r
    return (
      this.bcastPending ||
      r.msgs.length > 0 ||
      r.msgsAfterPersist.length > 0 ||
      r.selfMsgs.length > 0 ||
      r.log.hasUnstable() ||
      r.log.hasCommittedToApply() ||
      !sameSoft(this.softState(), this.prevSoft) ||
      !sameHard(this.hardState(), this.prevHard) ||
      r.readStates.some((rs) => rs.index <= r.log.applying)
    )
  }

  /** Takes the pending effects. Call advance(rd) after handling them, before the next ready(). */
  ready(): Ready {
    invariant(this.outstanding === null, 'ready() called before advance() of the previous Ready')
    const r = this.r
    const log = r.log
    if (this.bcastPending) {
      this.bcastPending = false
      if (r.role === 'leader') bcastAppend(r)
    }
    const snapshot = log.unstableSnapshot
    log.unstableSnapshot = null
    const entries = log.takeUnstable()
    const committedEntries = log.takeCommitted(r.opts.maxApplyBytes)
    if (r.role === 'leader') {
      for (const e of committedEntries) r.uncommittedBytes = Math.max(0, r.uncommittedBytes - e.data.byteLength)
    }
    const soft = this.softState()
    const hard = this.hardState()
    const softChanged = !sameSoft(soft, this.prevSoft)
    const hardChanged = !sameHard(hard, this.prevHard)
    const mustSync =
      entries.length > 0 || snapshot !== null || hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote
    const readStates: ReadState[] = []
    const waiting: ReadState[] = []
    for (const rs of r.readStates) (rs.index <= log.applying ? readStates : waiting).push(rs)
    r.readStates = waiting
    const rd: Ready = {
      softState: softChanged ? soft : null,
      hardState: hardChanged ? hard : null,
      snapshot,
      entries,
      committedEntries,
      messages: r.msgs,
      messagesAfterPersist: r.msgsAfterPersist,
      readStates,
      mustSync,
    }
    this.outstanding = { rd, selfMsgs: r.selfMsgs }
    r.msgs = []
    r.msgsAfterPersist = []
    r.selfMsgs = []
    if (softChanged) this.prevSoft = soft
    if (hardChanged) this.prevHard = hard
    return rd
  }

  /** The Ready was handled: its writes are durable and its committed entries applied. */
  advance(rd: Ready): void {
    const out = this.outstanding
    invariant(out !== null && out.rd === rd, 'advance() of a Ready that is not outstanding')
    this.outstanding = null
    const r = this.r
    const log = r.log
    // Everything handed out for persisting is now durable (a truncation since then pulled inProgress back).
    log.stable = log.inProgress
    if (rd.snapshot !== null) log.applied = Math.max(log.applied, rd.snapshot.meta.index)
    for (const e of rd.committedEntries) {
      if (e.kind === 'config') applyConfEntry(r, e)
    }
    if (rd.committedEntries.length > 0) log.applied = Math.max(log.applied, rd.committedEntries[rd.committedEntries.length - 1]!.index)
    if (r.role === 'leader') this.selfAck()
    for (const m of out.selfMsgs) r.step(m)
  }

  /** The leader's own copy counts toward a quorum only once durable. */
  private selfAck(): void {
    const r = this.r
    const self = r.tracker.progress.get(r.id)
    if (self === undefined || !self.maybeUpdate(r.log.stable)) return
    if (r.maybeCommit()) bcastCommit(r)
  }

  status(): RaftStatus {
    const r = this.r
    const progress: PeerStatus[] = []
    if (r.role === 'leader') {
      for (const id of r.tracker.members) {
        const pr = r.tracker.progress.get(id)!
        progress.push({
          id, state: pr.state, match: pr.match, next: pr.next, isLearner: pr.isLearner,
          recentActive: pr.recentActive, inflight: pr.inflights.count,
        })
      }
    }
    return {
      id: r.id, role: r.role, leader: r.leader, term: r.term, vote: r.vote,
      commit: r.log.committed, applied: r.log.applied, firstIndex: r.log.firstIndex(), lastIndex: r.log.lastIndex(),
      config: r.tracker.config(), leadTransferee: r.leadTransferee, progress,
    }
  }

  /** Human-readable progress lines of the leader's peers (for transcripts and debugging). */
  describeProgress(): string[] {
    const r = this.r
    if (r.role !== 'leader') return []
    return r.tracker.members.map((id) => `${id}: ${r.tracker.progress.get(id)!.describe()}`)
  }

  /** The uncompacted log in memory (for tests and debugging). */
  logEntries(): Entry[] {
    const log = this.r.log
    return log.slice(log.firstIndex(), log.lastIndex(), Number.MAX_SAFE_INTEGER) ?? []
  }

  private appendOnLeader(entry: Entry): ProposalHandle {
    const r = this.r
    this.checkCanPropose()
    if (!r.appendEntries([entry])) {
      throw new RaftError('PROPOSAL_DROPPED', `uncommitted entries exceed ${r.opts.maxUncommittedBytes} bytes`)
    }
    // Sent at the next ready(): proposals made until then share one append per follower.
    this.bcastPending = true
    return { index: entry.index, term: entry.term }
  }

  private checkCanPropose(): void {
    const r = this.r
    if (r.role !== 'leader') throw new RaftError('NOT_LEADER', `${r.id} is not the leader`, r.leader)
    if (!r.tracker.progress.has(r.id)) throw new RaftError('PROPOSAL_DROPPED', `${r.id} was removed from the group`)
    if (r.leadTransferee !== null) {
      throw new RaftError('PROPOSAL_DROPPED', `leadership transfer to ${r.leadTransferee} is in progress`)
    }
  }

  private softState(): SoftState {
    return { role: this.r.role, leader: this.r.leader }
  }

  private hardState(): HardState {
    return { term: this.r.term, vote: this.r.vote, commit: this.r.log.committed }
  }
}

function sameSoft(a: SoftState, b: SoftState): boolean {
  return a.role === b.role && a.leader === b.leader
}

function sameHard(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit
}
