import { defineBehavior, isTroupeError, type ActorContext, type ActorRef, type DeferredReply, type Message } from '@troupe/runtime'
import { bootstrapState } from '../internal/bootstrap.js'
import { applyConfChange, type ConfChange } from '../internal/conf-change.js'
import { InvariantError, RaftError } from '../internal/errors.js'
import type { RaftMessage } from '../internal/message.js'
import { RaftCore } from '../internal/raft-core.js'
import type { ClusterConfig, LogStorage, PersistedState } from '../storage.js'
import { encodeCommand } from './command-codec.js'
import { GroupProxy } from './group-proxy.js'
import { GroupReplica, type Reply, type ReplicaPort } from './group-replica.js'
import {
  errorReply, okReply, requestProblem, type ConfChangeRequest, type GroupSpec, type GroupStatus, type HostReply, type HostStats,
  type ProposeRequest, type QuiesceMessage, type RaftBatch, type ReadRequest, type RequestBase, type TransferRequest,
} from './host-protocol.js'
import { resolveHostOptions, type RaftHostOptions, type ResolvedHostOptions } from './host-options.js'
import { NodeLiveness } from './node-liveness.js'
import { Outbox } from './outbox.js'
import { ReplicatedMachine } from './replicated-machine.js'

/** Where every node runs its Raft host. */
export const RAFT_HOST_NAME = 'raft'
export const RAFT_HOST_PATH = `/system/${RAFT_HOST_NAME}`

export type HostProtocol = {
  open(p: { spec: GroupSpec }): HostReply
  close(p: { group: string }): HostReply
  propose(p: ProposeRequest): HostReply
  read(p: ReadRequest): HostReply
  confChange(p: ConfChangeRequest): HostReply
  transfer(p: TransferRequest): HostReply
  status(p: { group: string }): GroupStatus | null
  stats(): HostStats
  raft(p: RaftBatch): void
  tick(): void
  opened(p: { spec: GroupSpec; state: PersistedState | null; error: string | null; reply: Reply }): void
  synced(p: { batch: number; error: string | null }): void
  drain(): void
}

type Group = GroupReplica | GroupProxy

/**
 * The multi-raft host of one node: every group of the node lives in this one
 * actor. One tick timer drives all groups that are not quiesced; raft
 * messages of all groups leave in one batch per destination node per turn;
 * one storage sync per turn covers every group's writes (the shared
 * write-ahead log turns it into one fdatasync). Work per turn is bounded
 * (`maxReadiesPerTurn`); the rest continues in the next turn.
 */
class RaftHost {
  readonly self: string
  private readonly groups = new Map<string, Group>()
  private readonly opening = new Set<string>()
  /** Replicas that are ticked: every replica that is not quiesced. */
  private readonly active = new Set<GroupReplica>()
  /** Replicas that may have a Ready. */
  private readonly dirty = new Set<GroupReplica>()
  private readonly outbox: Outbox
  private readonly liveness = new NodeLiveness()
  private readonly peers = new Map<string, ActorRef<HostProtocol>>()
  private toSync: GroupReplica[] = []
  private readonly syncing = new Map<number, GroupReplica[]>()
  private syncSeq = 0
  private drainScheduled = false
  /** Requests held by replicas, bounded by maxPendingRequests. */
  private waiting = 0
  private readSeq = 0
  private readonly readPrefix: string
  private lastLivenessMs = -Infinity
  private readonly counters = { pingsSent: 0, groupTicks: 0, syncs: 0, droppedMessages: 0 }
  private readonly port: ReplicaPort

  constructor(
    private readonly ctx: ActorContext<HostProtocol>,
    private readonly o: ResolvedHostOptions,
  ) {
    this.self = ctx.system.name
    this.readPrefix = `${this.self}:${Math.floor(ctx.system.random() * 2 ** 32).toString(36)}:`
    this.outbox = new Outbox(o.maxBatchMessages, o.maxBatchBytes, (node, items) => this.deliver(node, items))
    this.port = {
      self: this.self,
      now: () => this.now(),
      send: (to, group, msg) => this.outbox.add(to, group, msg),
      log: (line) => this.o.log?.(line),
    }
  }

  private now(): number {
    return this.ctx.system.clock.now()
  }

  // --- lifecycle ---------------------------------------------------------------

  open(spec: GroupSpec): void {
    const reply = this.ctx.deferReply<HostReply>()
    const problem = specProblem(spec)
    if (problem !== null) return reply.resolve(errorReply('INVALID_ARGUMENT', `bad group spec: ${problem}`))
    if (this.groups.has(spec.id) || this.opening.has(spec.id)) {
      return reply.resolve(errorReply('INVALID_ARGUMENT', `group ${spec.id} is already open on ${this.self}`))
    }
    if (spec.stateMachine === null || spec.storage === null) {
      this.groups.set(spec.id, new GroupProxy(spec.id, [...spec.members, ...spec.learners]))
      return reply.resolve(okReply(null))
    }
    this.opening.add(spec.id)
    const self = this.ctx.self
    const done = (r: HostReply) => reply.resolve(r)
    spec.storage.load().then(
      (state) => self.tell('opened', { spec, state, error: null, reply: done }),
      (err) => self.tell('opened', { spec, state: null, error: String(err), reply: done }),
    )
  }

  opened(p: { spec: GroupSpec; state: PersistedState | null; error: string | null; reply: Reply }): void {
    // Sent by this host to itself only; anything else (a peer's tell) is dropped.
    if (typeof p?.reply !== 'function' || !this.opening.has(p.spec?.id)) return
    const { spec } = p
    this.opening.delete(spec.id)
    if (p.state === null) return p.reply(errorReply('GROUP_STOPPED', `cannot load group ${spec.id}: ${p.error}`))
    const storage = spec.storage!
    let state = p.state
    const empty = state.snapshot === null && state.entries.length === 0 && state.hardState.term === 0 && state.hardState.commit === 0
    if (empty && !spec.join) {
      // A founding member: every one starts from the same snapshot holding the initial configuration.
      state = bootstrapState({ voters: spec.members, learners: spec.learners })
      storage.saveSnapshot(state.snapshot!)
      storage.setHardState(state.hardState)
    }
    let g: GroupReplica
    try {
      const log = this.o.log
      const core = new RaftCore(
        {
          ...this.o.raft,
          id: this.self,
          random: this.ctx.system.random,
          electionTicks: this.o.electionTicks,
          heartbeatTicks: this.o.heartbeatTicks,
          ...(log ? { log: (line: string) => log(`[${spec.id}] ${line}`) } : {}),
        },
        state,
      )
      const machine = new ReplicatedMachine(spec.stateMachine!, { sessionTtlMs: spec.sessionTtlMs, maxResultsPerClient: spec.maxResultsPerClient })
      if (state.snapshot !== null && state.snapshot.data.byteLength > 0) machine.restore(state.snapshot.data)
      g = new GroupReplica(spec.id, core, storage, machine, spec, this.port)
    } catch (err) {
      if (err instanceof InvariantError) throw err
      return p.reply(errorReply('GROUP_STOPPED', `cannot start group ${spec.id}: ${String(err)}`))
    }
    this.groups.set(spec.id, g)
    this.active.add(g)
    this.dirty.add(g)
    p.reply(okReply(null))
    this.drain()
  }

  close(id: string): void {
    const reply = this.ctx.deferReply<HostReply>()
    const g = this.groups.get(id)
    if (g === undefined) return reply.resolve(okReply(null))
    this.groups.delete(id)
    if (g instanceof GroupProxy) return reply.resolve(okReply(null))
    this.forget(g, `group ${id} was stopped on ${this.self}`)
    g.storage.close().then(
      () => reply.resolve(okReply(null)),
      (err) => reply.resolve(errorReply('GROUP_STOPPED', `group ${id} stopped; closing its storage failed: ${String(err)}`)),
    )
  }

  stopAll(): void {
    for (const g of this.groups.values()) if (g instanceof GroupReplica) this.forget(g, `node ${this.self} is stopping`)
    this.groups.clear()
  }

  private forget(g: GroupReplica, why: string): void {
    this.active.delete(g)
    this.dirty.delete(g)
    g.stop(why)
  }

  private fail(g: GroupReplica, err: unknown): void {
    this.o.log?.(`[${g.id}] stopped on ${this.self}: ${String(err)}`)
    if (this.groups.get(g.id) === g) this.groups.delete(g.id)
    this.forget(g, `group ${g.id} failed on ${this.self}: ${err instanceof Error ? err.message : String(err)}`)
    if (err instanceof InvariantError) throw err
  }

  // --- client requests -----------------------------------------------------------

  propose(p: ProposeRequest): void {
    const g = this.requestTarget('propose', p)
    if (g === null) return
    if (g instanceof GroupProxy) return this.viaProxy(g, 'propose', p)
    const reply = this.ctx.deferReply<HostReply>()
    let hint = g.leader
    if (g.role === 'leader') {
      if (this.waiting >= this.o.maxPendingRequests) return reply.resolve(this.overloaded())
      let data: Uint8Array
      try {
        data = encodeCommand({ clientId: p.clientId, seq: p.seq, ackedBelow: p.ackedBelow, timeMs: Math.floor(this.now()), command: p.command, established: p.established })
      } catch (err) {
        return reply.resolve(errorReply('INVALID_ARGUMENT', `command cannot be encoded: ${String(err)}`))
      }
      try {
        const h = g.core.propose(data)
        this.wake(g)
        g.addProposal(h.index, h.term, this.hold(reply), this.now() + p.timeoutMs)
        this.dirty.add(g)
        return this.drain()
      } catch (err) {
        if (!(err instanceof RaftError)) throw err
        if (err.code !== 'NOT_LEADER') return reply.resolve(errorReply('OVERLOADED', err.message, this.self, true))
        hint = err.leaderHint
      }
    }
    this.forwardOr(g, reply, hint, 'propose', p)
  }

  read(p: ReadRequest): void {
    const g = this.requestTarget('read', p)
    if (g === null) return
    if (g instanceof GroupProxy) return this.viaProxy(g, 'read', p)
    const reply = this.ctx.deferReply<HostReply>()
    if (this.waiting >= this.o.maxPendingRequests) return reply.resolve(this.overloaded())
    const ctx = this.readPrefix + (++this.readSeq).toString(36)
    try {
      // On a follower the core asks the leader for its commit index and serves the read here once applied.
      g.core.readIndex(ctx)
    } catch (err) {
      if (!(err instanceof RaftError)) throw err
      if (err.code === 'NOT_LEADER') return this.forwardOr(g, reply, err.leaderHint, 'read', p)
      return reply.resolve(errorReply('OVERLOADED', err.message, g.leader, true))
    }
    this.wake(g)
    g.addRead(ctx, p.query, this.hold(reply), this.now() + p.timeoutMs)
    this.dirty.add(g)
    this.drain()
  }

  confChange(p: ConfChangeRequest): void {
    const g = this.requestTarget('confChange', p)
    if (g === null) return
    if (g instanceof GroupProxy) return this.viaProxy(g, 'confChange', p)
    const reply = this.ctx.deferReply<HostReply>()
    if (g.role !== 'leader') return this.forwardOr(g, reply, g.leader, 'confChange', p)
    const change: ConfChange = { type: p.change.type, node: p.change.node }
    const config = g.core.status().config
    // Retries of a change that took effect succeed: membership calls are idempotent.
    if (satisfied(config, change)) return reply.resolve(okReply(null))
    const next = applyConfChange(config, change)
    if (typeof next === 'string') return reply.resolve(errorReply('CONF_CHANGE_REJECTED', next))
    try {
      const h = g.core.proposeConfChange(change)
      this.wake(g)
      g.addProposal(h.index, h.term, this.hold(reply), this.now() + p.timeoutMs)
      this.dirty.add(g)
      this.drain()
    } catch (err) {
      if (!(err instanceof RaftError)) throw err
      if (err.code === 'NOT_LEADER') return this.forwardOr(g, reply, err.leaderHint, 'confChange', p)
      // Another change (or the term's first entry) is not applied yet: try again shortly.
      reply.resolve(errorReply('CONF_CHANGE_REJECTED', err.message, this.self, true))
    }
  }

  transfer(p: TransferRequest): void {
    const g = this.requestTarget('transfer', p)
    if (g === null) return
    if (g instanceof GroupProxy) return this.viaProxy(g, 'transfer', p)
    const reply = this.ctx.deferReply<HostReply>()
    if (g.leader === p.to) return reply.resolve(okReply(null))
    if (g.role !== 'leader') return this.forwardOr(g, reply, g.leader, 'transfer', p)
    try {
      g.core.transferLeadership(p.to)
    } catch (err) {
      if (!(err instanceof RaftError)) throw err
      if (err.code === 'NOT_LEADER') return this.forwardOr(g, reply, err.leaderHint, 'transfer', p)
      return reply.resolve(errorReply('TRANSFER_REJECTED', err.message))
    }
    this.wake(g)
    g.addTransfer(p.to, this.hold(reply), this.now() + p.timeoutMs)
    this.dirty.add(g)
    this.drain()
  }

  status(id: string): GroupStatus | null {
    const g = this.groups.get(id)
    if (g === undefined) return null
    if (g instanceof GroupReplica) return g.status()
    return {
      id, node: this.self, role: 'proxy', leader: g.leaderHint, term: 0, commit: 0, applied: 0, lastIndex: 0, snapshotIndex: 0,
      config: { voters: [...g.members], learners: [] }, quiesced: false, appliedCommands: 0, snapshotsInstalled: 0, snapshotsTaken: 0, sessions: 0,
    }
  }

  stats(): HostStats {
    let quiesced = 0
    for (const g of this.groups.values()) if (g instanceof GroupReplica && g.quiesced) quiesced++
    return {
      batchesSent: this.outbox.batches, messagesSent: this.outbox.messages, ...this.counters, groups: this.groups.size, quiesced,
    }
  }

  /** Validates a request and finds its group; answers it (and returns null) when it cannot go on. */
  private requestTarget(kind: 'propose' | 'read' | 'confChange' | 'transfer', p: RequestBase): Group | null {
    const problem = requestProblem(kind, p)
    const g = problem === null ? this.groups.get(p.group) : undefined
    if (g !== undefined) return g
    const reply = this.ctx.deferReply<HostReply>()
    if (problem !== null) reply.resolve(errorReply('INVALID_ARGUMENT', `malformed ${kind} request: ${problem}`))
    else reply.resolve(errorReply('GROUP_STOPPED', `group ${p.group} is not open on ${this.self}`, null, p.forwarded))
    return null
  }

  private viaProxy(g: GroupProxy, kind: 'propose' | 'read' | 'confChange' | 'transfer', p: RequestBase): void {
    const reply = this.ctx.deferReply<HostReply>()
    this.forward(g.target(), kind, { ...p, forwarded: false }, (r) => {
      g.learn(r)
      reply.resolve(r)
    })
  }

  /** Forwards to the leader once; a request that was forwarded already is answered with the hint instead. */
  private forwardOr(g: GroupReplica, reply: DeferredReply<HostReply>, leader: string | null, kind: 'propose' | 'read' | 'confChange' | 'transfer', p: RequestBase): void {
    if (p.forwarded || leader === null || leader === this.self) {
      const why = leader === null ? `${this.self} knows no leader of group ${p.group}` : `${this.self} is not the leader of group ${p.group}`
      return reply.resolve(errorReply('NOT_LEADER', why, leader, true))
    }
    const done: Reply = (r) => {
      g.forwards.delete(done)
      reply.resolve(r)
    }
    g.forwards.add(done)
    this.forward(leader, kind, { ...p, forwarded: true }, done)
  }

  private forward(node: string, kind: 'propose' | 'read' | 'confChange' | 'transfer', p: RequestBase, done: (r: HostReply) => void): void {
    let ask: Promise<unknown>
    try {
      ask = this.peer(node).ask(kind, p as never, { timeoutMs: p.timeoutMs })
    } catch (err) {
      return done(errorReply('NOT_LEADER', `cannot reach ${node}: ${String(err)}`, null, true))
    }
    ask.then(
      (r) => done(isHostReply(r) ? r : errorReply('NOT_LEADER', `malformed reply from ${node}`, null, true)),
      (err) => {
        if (isTroupeError(err, 'ASK_TIMEOUT')) done(errorReply('TIMEOUT', `no answer from ${node} within ${p.timeoutMs} ms`, node, true))
        else done(errorReply('NOT_LEADER', `forwarding to ${node} failed: ${String(err)}`, null, true))
      },
    )
  }

  /** Counts a request a replica holds until it replies. */
  private hold(reply: DeferredReply<HostReply>): Reply {
    this.waiting++
    let done = false
    return (r) => {
      if (done) return
      done = true
      this.waiting--
      reply.resolve(r)
    }
  }

  private overloaded(): HostReply {
    return errorReply('OVERLOADED', `${this.waiting} requests are waiting on ${this.self} (maxPendingRequests)`, null, false)
  }

  // --- raft traffic ----------------------------------------------------------------

  receive(batch: RaftBatch): void {
    if (typeof batch !== 'object' || batch === null || typeof batch.from !== 'string' || !Array.isArray(batch.items)) {
      this.counters.droppedMessages++
      return
    }
    this.liveness.heard(batch.from, this.now())
    for (const item of batch.items) {
      const [id, m] = Array.isArray(item) ? (item as [unknown, unknown]) : []
      const g = typeof id === 'string' ? this.groups.get(id) : undefined
      if (!(g instanceof GroupReplica) || typeof m !== 'object' || m === null) {
        this.counters.droppedMessages++
        continue
      }
      if ((m as { type?: unknown }).type === 'quiesce') {
        if (isQuiesce(m) && !g.quiesced && g.acceptQuiesce(batch.from, m)) this.quiesce(g)
        continue
      }
      const msg = m as RaftMessage
      if (g.quiesced && g.wakesOn(msg)) this.wake(g)
      g.core.step(msg)
      this.dirty.add(g)
    }
    this.drain()
  }

  tick(): void {
    const now = this.now()
    const quiesceAfter = this.o.quiesceAfterTicks
    for (const g of this.active) {
      g.core.tick()
      g.idleTicks++
      this.dirty.add(g)
      if (quiesceAfter > 0 && g.role === 'leader' && !g.wantQuiesce && g.canQuiesce(quiesceAfter)) g.wantQuiesce = true
    }
    this.counters.groupTicks += this.active.size
    if (now - this.lastLivenessMs >= this.o.livenessIntervalMs / 2) this.livenessRound(now)
    if (this.waiting > 0) for (const g of this.groups.values()) if (g instanceof GroupReplica && g.pendingCount > 0) g.expire(now)
    this.drain()
  }

  /** Pings quiet peers; wakes quiesced followers whose leader's node went silent. */
  private livenessRound(now: number): void {
    this.lastLivenessMs = now
    const peers = new Set<string>()
    for (const g of this.groups.values()) {
      if (!(g instanceof GroupReplica)) continue
      for (const n of g.config.voters) peers.add(n)
      for (const n of g.config.learners) peers.add(n)
      if (g.quiesced && g.role !== 'leader' && (g.leader === null || this.liveness.silent(g.leader, now, this.o.livenessTimeoutMs))) {
        this.o.log?.(`[${g.id}] ${this.self} wakes: leader ${g.leader} silent for ${this.o.livenessTimeoutMs} ms`)
        this.wake(g)
      }
    }
    peers.delete(this.self)
    for (const node of peers) {
      if (!this.liveness.needsPing(node, now, this.o.livenessIntervalMs)) continue
      this.counters.pingsSent++
      this.outbox.ping(node)
    }
  }

  private wake(g: GroupReplica): void {
    g.idleTicks = 0
    if (!g.quiesced) return
    g.quiesced = false
    this.active.add(g)
  }

  private quiesce(g: GroupReplica): void {
    g.quiesced = true
    g.wantQuiesce = false
    this.active.delete(g)
  }

  // --- the driver loop ----------------------------------------------------------------

  /**
   * Asks for a drain after the messages already queued: everything the
   * host receives meanwhile (messages of many groups, proposals, sync
   * completions) is handled first, so one drain sends one batch per node
   * and starts one sync for all of it.
   */
  drain(): void {
    if (this.drainScheduled) return
    this.drainScheduled = true
    this.ctx.self.tell('drain')
  }

  /** Handles Readies of dirty groups (bounded per turn), starts one sync for them, sends every batch. */
  runDrain(): void {
    this.drainScheduled = false
    let budget = this.o.maxReadiesPerTurn
    for (const g of this.dirty) {
      if (budget === 0) break
      this.dirty.delete(g)
      if (g.stopped || g.inflight !== null || !g.core.hasReady()) continue
      budget--
      try {
        const mustSync = g.startReady()
        if (g.quiesced) this.quiesce(g)
        if (mustSync) this.toSync.push(g)
        else {
          g.finishReady()
          this.dirty.add(g)
        }
      } catch (err) {
        this.fail(g, err)
      }
    }
    if (budget === 0 && this.dirty.size > 0) this.drain()
    this.startSync()
    this.outbox.flushAll()
  }

  private startSync(): void {
    if (this.toSync.length === 0) return
    const batch = this.toSync
    this.toSync = []
    const id = ++this.syncSeq
    this.syncing.set(id, batch)
    this.counters.syncs++
    const stores = new Set<LogStorage>()
    const syncs: Promise<void>[] = []
    for (const g of batch) {
      if (stores.has(g.storage)) continue
      stores.add(g.storage)
      syncs.push(g.storage.sync())
    }
    const self = this.ctx.self
    Promise.all(syncs).then(
      () => self.tell('synced', { batch: id, error: null }),
      (err) => self.tell('synced', { batch: id, error: String(err) }),
    )
  }

  synced(id: number, error: string | null): void {
    const batch = this.syncing.get(id)
    if (batch === undefined) return
    this.syncing.delete(id)
    for (const g of batch) {
      if (g.stopped) continue
      if (error !== null) {
        this.fail(g, new Error(`storage sync failed: ${error}`))
        continue
      }
      try {
        g.finishReady()
      } catch (err) {
        this.fail(g, err)
        continue
      }
      this.dirty.add(g)
    }
    this.drain()
  }

  private deliver(node: string, items: unknown[]): void {
    this.liveness.sent(node, this.now())
    try {
      this.peer(node).tell('raft', { from: this.self, items })
    } catch {
      // An unknown node or an unencodable batch: lost like any message; Raft retries.
      this.counters.droppedMessages += items.length
    }
  }

  private peer(node: string): ActorRef<HostProtocol> {
    let ref = this.peers.get(node)
    if (ref === undefined) this.peers.set(node, (ref = this.ctx.system.remoteRef<HostProtocol>(node, RAFT_HOST_PATH)))
    return ref
  }
}

function specProblem(spec: GroupSpec): string | null {
  if (typeof spec !== 'object' || spec === null || typeof spec.id !== 'string' || spec.id.length === 0) return 'bad id'
  if (!Array.isArray(spec.members) || !Array.isArray(spec.learners)) return 'bad members'
  const replica = spec.stateMachine !== null || spec.storage !== null
  if (replica && (typeof spec.stateMachine !== 'function' || typeof spec.storage?.sync !== 'function')) return 'a replica needs a state machine and a storage'
  return null
}

function satisfied(config: ClusterConfig, cc: ConfChange): boolean {
  const voter = config.voters.includes(cc.node)
  const learner = config.learners.includes(cc.node)
  if (cc.type === 'addVoter') return voter
  if (cc.type === 'addLearner') return learner
  return !voter && !learner
}

function isQuiesce(m: object): m is QuiesceMessage {
  const q = m as Record<string, unknown>
  return Number.isSafeInteger(q.term) && Number.isSafeInteger(q.commit) && Number.isSafeInteger(q.lastIndex)
}

function isHostReply(r: unknown): r is HostReply {
  if (typeof r !== 'object' || r === null) return false
  const x = r as Record<string, unknown>
  if (x.ok === true) return true
  return x.ok === false && typeof x.code === 'string' && typeof x.message === 'string' && typeof x.retry === 'boolean'
}

/** The host actor's definition. Its failures resume: one group's bug must not take the other groups down. */
export function raftHostDef(options: RaftHostOptions = {}) {
  const o = resolveHostOptions(options)
  return defineBehavior<HostProtocol, RaftHost>({
    name: 'raft-host',
    initial: (ctx) => new RaftHost(ctx, o),
    onStart: (_host, ctx) => ctx.timers.startPeriodic('tick', o.tickMs, 'tick', undefined),
    onStop: (host) => host.stopAll(),
    supervision: { onFailure: 'resume' },
    mailbox: { capacity: 1_000_000 },
    receive(host, msg: Message<HostProtocol>) {
      switch (msg.type) {
        case 'open':
          return host.open(msg.payload.spec)
        case 'opened':
          return host.opened(msg.payload)
        case 'close':
          return host.close(msg.payload.group)
        case 'propose':
          return host.propose(msg.payload)
        case 'read':
          return host.read(msg.payload)
        case 'confChange':
          return host.confChange(msg.payload)
        case 'transfer':
          return host.transfer(msg.payload)
        case 'status':
          return host.status(msg.payload.group)
        case 'stats':
          return host.stats()
        case 'raft':
          return host.receive(msg.payload)
        case 'tick':
          return host.tick()
        case 'synced':
          return host.synced(msg.payload.batch, msg.payload.error)
        case 'drain':
          return host.runDrain()
      }
    },
  })
}
