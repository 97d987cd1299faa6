import { defineBehavior, type ActorContext, type ActorRef, type Message } from '@troupe/runtime'
import { fnv1a32 } from '@troupe/runtime/hash'
import { bootstrapState } from '../internal/bootstrap.js'
import { InvariantError } from '../internal/errors.js'
import type { RaftMessage } from '../internal/message.js'
import { RaftCore } from '../internal/raft-core.js'
import type { LogStorage, PersistedState } from '../storage.js'
import { GroupProxy } from './group-proxy.js'
import { GroupReplica, type Reply, type ReplicaPort } from './group-replica.js'
import {
  errorReply, okReply, type ConfChangeRequest, type GroupSpec, type GroupStatus, type HostReply, type HostStats,
  type ProposeBatchRequest, type ProposeRequest, type QuiesceMessage, type RaftBatch, type ReadRequest, type TransferRequest,
} from './host-protocol.js'
import { resolveHostOptions, type RaftHostOptions, type ResolvedHostOptions } from './host-options.js'
import { NodeLiveness } from './node-liveness.js'
import { Outbox } from './outbox.js'
import { ReplicatedMachine } from './replicated-machine.js'
import { RequestRouter } from './request-router.js'

/** Where every node runs its Raft host. */
export const RAFT_HOST_NAME = 'raft'
export const RAFT_HOST_PATH = `/system/${RAFT_HOST_NAME}`

export type HostProtocol = {
  open(p: { spec: GroupSpec }): HostReply
  close(p: { group: string }): HostReply
  propose(p: ProposeRequest): HostReply
  proposeBatch(p: ProposeBatchRequest): HostReply
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
  readonly router: RequestRouter
  private lastLivenessMs = -Infinity
  private readonly counters = { pingsSent: 0, groupTicks: 0, syncs: 0, droppedMessages: 0 }
  private readonly port: ReplicaPort

  constructor(
    private readonly ctx: ActorContext<HostProtocol>,
    private readonly o: ResolvedHostOptions,
  ) {
    this.self = ctx.system.name
    const readPrefix = `${this.self}:${Math.floor(ctx.system.random() * 2 ** 32).toString(36)}:`
    this.router = new RequestRouter(
      {
        self: this.self,
        maxPendingRequests: o.maxPendingRequests,
        now: () => this.now(),
        find: (id) => this.groups.get(id),
        deferReply: () => this.ctx.deferReply<HostReply>(),
        activate: (g) => {
          this.wake(g)
          this.dirty.add(g)
          this.drain()
        },
        wake: (g) => this.wake(g),
        peer: (node) => this.peer(node),
      },
      readPrefix,
    )
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
    // A new group need not wait an election timeout: one founding member, picked by the group's id
    // so that leaders spread over the nodes, campaigns at once (PreVote keeps that harmless).
    if (empty && !spec.join && firstCandidate(spec) === this.self) g.core.campaign()
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
      if (g.wakesOn(msg)) this.wake(g)
      g.core.step(msg)
      this.dirty.add(g)
    }
    this.drain()
  }

  tick(): void {
    const now = this.now()
    const quiesceAfter = this.o.quiesceAfterTicks
    const electionMs = this.o.electionTicks * this.o.tickMs
    const live = (node: string) => !this.liveness.silent(node, now, electionMs)
    for (const g of this.active) {
      g.core.tick()
      g.idleTicks++
      this.dirty.add(g)
      // Checked once per quiesceAfter idle ticks: a group that cannot quiesce (a follower down) costs little.
      if (quiesceAfter > 0 && g.role === 'leader' && !g.wantQuiesce && g.idleTicks % quiesceAfter === 0 && g.canQuiesce(quiesceAfter, live)) {
        g.wantQuiesce = true
      }
    }
    this.counters.groupTicks += this.active.size
    if (now - this.lastLivenessMs >= this.o.livenessIntervalMs / 2) this.livenessRound(now)
    if (this.router.waiting > 0) for (const g of this.groups.values()) if (g instanceof GroupReplica && g.pendingCount > 0) g.expire(now)
    this.drain()
  }

  /**
   * Pings quiet peers. Wakes quiesced followers whose leader's node went
   * silent (they may campaign), and quiesced leaders that cannot hear a
   * quorum (CheckQuorum then steps them down instead of leading on, unseen).
   */
  private livenessRound(now: number): void {
    this.lastLivenessMs = now
    const peers = new Set<string>()
    const silent = (node: string) => node !== this.self && this.liveness.silent(node, now, this.o.livenessTimeoutMs)
    for (const g of this.groups.values()) {
      if (!(g instanceof GroupReplica)) continue
      for (const n of g.config.voters) peers.add(n)
      for (const n of g.config.learners) peers.add(n)
      if (!g.quiesced) continue
      const voters = g.config.voters
      const lost = g.role === 'leader' ? voters.filter((v) => !silent(v)).length <= voters.length / 2 : g.leader === null || silent(g.leader)
      if (lost) {
        this.o.log?.(`[${g.id}] ${this.self} wakes: ${g.role === 'leader' ? 'no quorum heard' : `leader ${g.leader} silent`} for ${this.o.livenessTimeoutMs} ms`)
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
    g.wantQuiesce = false
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
    // Messages first: a disk that syncs on this thread must not hold back the appends followers sync in parallel.
    this.outbox.flushAll()
    this.startSync()
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

function firstCandidate(spec: GroupSpec): string | undefined {
  const voters = [...spec.members].sort()
  return voters[fnv1a32(spec.id) % voters.length]
}

function specProblem(spec: GroupSpec): string | null {
  if (typeof spec !== 'object' || spec === null || typeof spec.id !== 'string' || spec.id.length === 0) return 'bad id'
  if (!Array.isArray(spec.members) || !Array.isArray(spec.learners)) return 'bad members'
  const replica = spec.stateMachine !== null || spec.storage !== null
  if (replica && (typeof spec.stateMachine !== 'function' || typeof spec.storage?.sync !== 'function')) return 'a replica needs a state machine and a storage'
  return null
}

function isQuiesce(m: object): m is QuiesceMessage {
  const q = m as Record<string, unknown>
  return Number.isSafeInteger(q.term) && Number.isSafeInteger(q.commit) && Number.isSafeInteger(q.lastIndex)
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
          return host.router.propose(msg.payload)
        case 'proposeBatch':
          return host.router.proposeBatch(msg.payload)
        case 'read':
          return host.router.read(msg.payload)
        case 'confChange':
          return host.router.confChange(msg.payload)
        case 'transfer':
          return host.router.transfer(msg.payload)
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
