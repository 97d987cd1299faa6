import type { ConfChange } from '../internal/conf-change.js'
import type { RaftMessage } from '../internal/message.js'
import type { ProposalHandle, RaftCore, RaftStatus } from '../internal/raft-core.js'
import type { ReadState, Role } from '../internal/raft.js'
import type { Ready, SoftState } from '../internal/ready.js'
import type { ClusterConfig, Entry, LogStorage, Snapshot } from '../storage.js'
import { decodeCommand } from './command-codec.js'
import { errorReply, okReply, type GroupSpec, type GroupStatus, type HostReply, type Reply } from './host-protocol.js'
import { QuietState } from './quiescence.js'
import type { ReplicatedMachine } from './replicated-machine.js'

/** What a replica needs from the host that runs it. */
export interface ReplicaPort {
  readonly self: string
  now(): number
  /** Queues a message for `to`; the host batches per node and sends at the end of its turn. */
  send(to: string, group: string, msg: RaftMessage): void
  log(line: string): void
}

interface PendingProposal {
  term: number
  reply: Reply
  deadline: number
}

interface PendingRead {
  query: unknown
  reply: Reply
  deadline: number
}

interface PendingTransfer {
  to: string
  reply: Reply
  deadline: number
}

const lostReply = (index: number): HostReply =>
  errorReply('NOT_LEADER', `the entry at index ${index} was replaced after a leader change`, null, true)

/**
 * One group on one node: the Raft core, its storage, the replicated state
 * and the requests waiting on them. The host drives it through the README's
 * loop: `startReady` (persist, send), a shared sync, `finishReady` (send
 * what vouches for the writes, apply, serve reads, advance). Clients hear
 * back only from `finishReady`, after their data is durable and applied.
 */
export class GroupReplica {
  role: Role = 'follower'
  leader: string | null = null
  term = 0
  /** Index of the last entry (or snapshot) reflected in the state machine. */
  applied: number
  snapshotIndex: number
  config: ClusterConfig
  /** The Ready being persisted, or null. */
  inflight: Ready | null = null
  /** Whether the group sleeps here; owned by the host's Quiescence. */
  readonly quiet = new QuietState()
  stopped = false
  readonly pending = new Map<number, PendingProposal>()
  readonly reads = new Map<string, PendingRead>()
  transfers: PendingTransfer[] = []
  /** Requests forwarded to the leader, answered with a retry if leadership moves before the leader answers. */
  readonly forwards = new Set<Reply>()
  readonly stats = { snapshotsInstalled: 0, snapshotsTaken: 0 }
  private softChange: SoftState | null = null

  constructor(
    readonly id: string,
    private readonly core: RaftCore,
    readonly storage: LogStorage,
    readonly machine: ReplicatedMachine,
    private readonly spec: GroupSpec,
    private readonly port: ReplicaPort,
  ) {
    const st = core.status()
    this.applied = st.firstIndex - 1
    this.snapshotIndex = st.firstIndex - 1
    this.config = st.config
    this.term = st.term
  }

  get pendingCount(): number {
    return this.pending.size + this.reads.size + this.transfers.length
  }

  // --- the core ---------------------------------------------------------------

  tick(): void {
    this.core.tick()
  }

  step(m: RaftMessage): void {
    this.core.step(m)
  }

  hasReady(): boolean {
    return this.core.hasReady()
  }

  /** Starts an election at once (a new group's first candidate). */
  campaign(): void {
    this.core.campaign()
  }

  raftStatus(): RaftStatus {
    return this.core.status()
  }

  /** The core's configuration now (it may run ahead of `config`, which follows applied entries). */
  coreConfig(): ClusterConfig {
    return this.core.status().config
  }

  /** Appends `data` if this replica leads; throws the core's RaftError otherwise. Wait for it with `addProposal`. */
  propose(data: Uint8Array): ProposalHandle {
    return this.core.propose(data)
  }

  proposeConfChange(change: ConfChange): ProposalHandle {
    return this.core.proposeConfChange(change)
  }

  /** Asks for a read index under `ctx` (on a follower: from the leader); throws the core's RaftError. Wait for it with `addRead`. */
  readIndex(ctx: string): void {
    this.core.readIndex(ctx)
  }

  /** Throws the core's RaftError; wait for the new leader with `addTransfer`. */
  transferLeadership(to: string): void {
    this.core.transferLeadership(to)
  }

  // --- the Ready loop -----------------------------------------------------------

  /** Takes the next Ready, buffers its writes and sends its messages. The caller syncs if `mustSync`, then calls `finishReady`. */
  startReady(): Ready {
    const rd = this.core.ready()
    this.inflight = rd
    if (rd.softState !== null) {
      this.role = rd.softState.role
      this.leader = rd.softState.leader
      this.softChange = rd.softState
    }
    if (rd.hardState !== null) this.term = rd.hardState.term
    if (rd.snapshot !== null) this.storage.saveSnapshot(rd.snapshot)
    if (rd.entries.length > 0) this.storage.append(rd.entries)
    if (rd.hardState !== null) this.storage.setHardState(rd.hardState)
    for (const m of rd.messages) this.port.send(m.to, this.id, m)
    return rd
  }

  /** The Ready's writes are durable: send what vouches for them, apply, serve reads, advance. */
  finishReady(): void {
    const rd = this.inflight
    if (rd === null) return
    this.inflight = null
    for (const m of rd.messagesAfterPersist) this.port.send(m.to, this.id, m)
    if (rd.snapshot !== null) this.installSnapshot(rd.snapshot)
    let configChanged = false
    for (const e of rd.committedEntries) configChanged = this.applyEntry(e) || configChanged
    for (const rs of rd.readStates) this.serveRead(rs)
    this.core.advance(rd)
    if (configChanged) this.config = this.core.status().config
    if (this.softChange !== null) this.onSoftChange(this.softChange)
    this.softChange = null
    this.maybeCompact()
  }

  /** True if the entry was a config change. */
  private applyEntry(e: Entry): boolean {
    if (e.index <= this.applied) return false
    this.applied = e.index
    const p = this.pending.get(e.index)
    if (p !== undefined) this.pending.delete(e.index)
    if (e.kind === 'config') {
      p?.reply(p.term === e.term ? okReply(null, this.port.self) : lostReply(e.index))
      return true
    }
    const cmd = e.data.byteLength === 0 ? null : decodeCommand(e.data)
    if (cmd === null) {
      if (e.data.byteLength > 0) this.port.log(`${this.id}: skipped entry ${e.index} of an unknown format`)
      p?.reply(lostReply(e.index))
      return false
    }
    const outcome = this.machine.apply(cmd, e.index, e.term)
    if (p === undefined) return false
    if (p.term !== e.term || outcome === null) p.reply(lostReply(e.index))
    else if (outcome.ok) p.reply(okReply(outcome.value, this.port.self))
    else p.reply(errorReply(outcome.code, outcome.message))
    return false
  }

  private installSnapshot(snap: Snapshot): void {
    this.machine.restore(snap.data)
    this.applied = snap.meta.index
    this.snapshotIndex = snap.meta.index
    this.config = snap.meta.config
    this.stats.snapshotsInstalled++
    // Whether these entries made it into the snapshot is unknown here: the client retries, its session deduplicates.
    for (const [index, p] of this.pending) {
      if (index > snap.meta.index) continue
      this.pending.delete(index)
      p.reply(lostReply(index))
    }
  }

  private serveRead(rs: ReadState): void {
    const key = typeof rs.ctx === 'string' ? rs.ctx : ''
    const r = this.reads.get(key)
    if (r === undefined) return
    this.reads.delete(key)
    try {
      r.reply(okReply(this.machine.query(r.query), this.leader))
    } catch (err) {
      r.reply(errorReply('COMMAND_FAILED', `query failed: ${err instanceof Error ? err.message : String(err)}`))
    }
  }

  /** Leadership moved: requests that depended on the old leader are told to retry (sessions make that safe). */
  private onSoftChange(soft: SoftState): void {
    if (this.forwards.size > 0) {
      const forwards = [...this.forwards]
      this.forwards.clear()
      for (const f of forwards) f(errorReply('NOT_LEADER', 'leadership moved while the request was forwarded', soft.leader, true))
    }
    for (const t of this.transfers) if (soft.leader === t.to) t.reply(okReply(null, t.to))
    this.transfers = this.transfers.filter((t) => soft.leader !== t.to)
    if (this.reads.size > 0) {
      const reads = [...this.reads.values()]
      this.reads.clear()
      for (const r of reads) r.reply(errorReply('NOT_LEADER', 'leadership changed while the read was confirmed', soft.leader, true))
    }
    if (soft.role !== 'leader' && this.pending.size > 0) {
      const pending = [...this.pending.values()]
      this.pending.clear()
      for (const p of pending) p.reply(errorReply('NOT_LEADER', `${this.port.self} lost leadership`, soft.leader, true))
    }
  }

  private maybeCompact(): void {
    if (this.applied - this.snapshotIndex < this.spec.snapshotEveryEntries) return
    const snap = this.core.compact(this.applied, this.machine.snapshot())
    if (snap === null) return
    this.storage.saveSnapshot(snap)
    this.snapshotIndex = snap.meta.index
    this.stats.snapshotsTaken++
  }

  // --- requests ---------------------------------------------------------------

  addProposal(index: number, term: number, reply: Reply, deadline: number): void {
    this.pending.set(index, { term, reply, deadline })
  }

  addRead(ctx: string, query: unknown, reply: Reply, deadline: number): void {
    this.reads.set(ctx, { query, reply, deadline })
  }

  addTransfer(to: string, reply: Reply, deadline: number): void {
    this.transfers.push({ to, reply, deadline })
  }

  /** Answers requests whose deadline passed with TIMEOUT (retryable: they may still take effect). */
  expire(now: number): void {
    const timeout = (what: string) => errorReply('TIMEOUT', `${what} on group ${this.id} timed out at ${this.port.self}`, this.leader, true)
    for (const [index, p] of this.pending) if (p.deadline <= now) (this.pending.delete(index), p.reply(timeout('proposal')))
    for (const [ctx, r] of this.reads) if (r.deadline <= now) (this.reads.delete(ctx), r.reply(timeout('read')))
    const expired = this.transfers.filter((t) => t.deadline <= now)
    this.transfers = this.transfers.filter((t) => t.deadline > now)
    for (const t of expired) t.reply(timeout(`transfer to ${t.to}`))
  }

  /** Stops the replica: every waiting request gets `code`; nothing is handled afterwards. */
  stop(message: string): void {
    this.stopped = true
    const all: Reply[] = [...[...this.pending.values()].map((p) => p.reply), ...[...this.reads.values()].map((r) => r.reply), ...this.transfers.map((t) => t.reply)]
    this.pending.clear()
    this.reads.clear()
    this.transfers = []
    all.push(...this.forwards)
    this.forwards.clear()
    for (const reply of all) reply(errorReply('GROUP_STOPPED', message))
  }

  status(): GroupStatus {
    const st = this.core.status()
    return {
      id: this.id, node: this.port.self, role: st.role, leader: st.leader, term: st.term, commit: st.commit,
      applied: this.applied, lastIndex: st.lastIndex, snapshotIndex: this.snapshotIndex, config: st.config,
      quiesced: this.quiet.quiesced, appliedCommands: this.machine.commandsApplied, snapshotsInstalled: this.stats.snapshotsInstalled,
      snapshotsTaken: this.stats.snapshotsTaken, sessions: this.machine.sessionCount,
    }
  }
}
