import { defineBehavior, type ActorContext, type ActorRef, type Message } from '@troupe/runtime'
import type { RaftMessage } from '../internal/message.js'
import { DrainLoop } from './drain-loop.js'
import { GroupRegistry } from './group-registry.js'
import { GroupReplica, type ReplicaPort } from './group-replica.js'
import type { HostProtocol, HostReply, HostStats, QuiesceMessage, RaftBatch } from './host-protocol.js'
import { resolveHostOptions, type RaftHostOptions, type ResolvedHostOptions } from './host-options.js'
import { NodeLiveness } from './node-liveness.js'
import { Outbox } from './outbox.js'
import { Quiescence } from './quiescence.js'
import { RequestRouter } from './request-router.js'
import { SyncBatcher } from './sync-batcher.js'

/** Where every node runs its Raft host. */
export const RAFT_HOST_NAME = 'raft'
export const RAFT_HOST_PATH = `/system/${RAFT_HOST_NAME}`

/**
 * The multi-raft host of one node: every group of the node lives in this one
 * actor. One tick timer drives all groups that are not quiesced; raft
 * messages of all groups leave in one batch per destination node per turn;
 * one storage sync per turn covers every group's writes (the shared
 * write-ahead log turns it into one fdatasync). The host wires the rooms
 * that do this: the group registry, the request router, quiescence, the
 * drain loop and its sync batcher, the outbox; it handles raft traffic,
 * ticks and liveness itself.
 */
class RaftHost {
  readonly self: string
  readonly groups: GroupRegistry
  readonly router: RequestRouter
  readonly drainLoop: DrainLoop
  private readonly quiescence: Quiescence
  private readonly outbox: Outbox
  private readonly sync: SyncBatcher
  private readonly liveness = new NodeLiveness()
  private readonly peers = new Map<string, ActorRef<HostProtocol>>()
  private lastLivenessMs = -Infinity
  private readonly counters = { pingsSent: 0, groupTicks: 0, droppedMessages: 0 }

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
        groups: () => this.groups.values(),
        deferReply: () => this.ctx.deferReply<HostReply>(),
        activate: (g) => {
          this.quiescence.wake(g)
          this.drainLoop.mark(g)
          this.drainLoop.schedule()
        },
        wake: (g) => this.quiescence.wake(g),
        peer: (node) => this.peer(node),
      },
      readPrefix,
    )
    this.outbox = new Outbox(o.maxBatchMessages, o.maxBatchBytes, (node, items) => this.deliver(node, items))
    const port: ReplicaPort = {
      self: this.self,
      now: () => this.now(),
      send: (to, group, msg) => this.outbox.add(to, group, msg),
      log: (line) => this.o.log?.(line),
    }
    this.quiescence = new Quiescence({
      self: this.self,
      quiesceAfterTicks: o.quiesceAfterTicks,
      send: (to, group, msg) => this.outbox.add(to, group, msg),
      log: o.log,
    })
    const self = ctx.self
    const sync = new SyncBatcher((batch, error) => self.tell('synced', { batch, error }))
    this.drainLoop = new DrainLoop(
      { scheduleDrain: () => self.tell('drain'), fail: (g, err) => this.groups.fail(g, err) },
      this.quiescence,
      sync,
      this.outbox,
      o.maxReadiesPerTurn,
    )
    this.groups = new GroupRegistry(ctx, o, port, {
      started: (g) => {
        this.quiescence.add(g)
        this.drainLoop.mark(g)
      },
      forgotten: (g) => {
        this.quiescence.remove(g)
        this.drainLoop.forget(g)
      },
      drain: () => this.drainLoop.schedule(),
    })
    this.sync = sync
  }

  private now(): number {
    return this.ctx.system.clock.now()
  }

  stats(): HostStats {
    let quiesced = 0
    for (const g of this.groups.values()) if (g instanceof GroupReplica && g.quiet.quiesced) quiesced++
    const c = this.counters
    return {
      batchesSent: this.outbox.batches, messagesSent: this.outbox.messages, pingsSent: c.pingsSent, groupTicks: c.groupTicks,
      syncs: this.sync.syncs, droppedMessages: c.droppedMessages, groups: this.groups.size, quiesced,
    }
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
        if (isQuiesce(m)) this.quiescence.received(g, batch.from, m)
        continue
      }
      const msg = m as RaftMessage
      if (this.quiescence.wakesOn(g, msg)) this.quiescence.wake(g)
      g.step(msg)
      this.drainLoop.mark(g)
    }
    this.drainLoop.schedule()
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

  // --- ticks and liveness ------------------------------------------------------------

  tick(): void {
    const now = this.now()
    const electionMs = this.o.electionTicks * this.o.tickMs
    const live = (node: string) => !this.liveness.silent(node, now, electionMs)
    const ticking = this.quiescence.ticking
    for (const g of ticking) {
      g.tick()
      this.drainLoop.mark(g)
      this.quiescence.ticked(g, live)
    }
    this.counters.groupTicks += ticking.size
    if (now - this.lastLivenessMs >= this.o.livenessIntervalMs / 2) this.livenessRound(now)
    if (this.router.waiting > 0) for (const g of this.groups.values()) if (g instanceof GroupReplica && g.pendingCount > 0) g.expire(now)
    this.drainLoop.schedule()
  }

  /**
   * Pings quiet peers, and lets quiescence wake the sleeping replicas whose
   * leader (or, for a leader, whose quorum) went silent.
   */
  private livenessRound(now: number): void {
    this.lastLivenessMs = now
    const peers = new Set<string>()
    const timeoutMs = this.o.livenessTimeoutMs
    const silent = (node: string) => node !== this.self && this.liveness.silent(node, now, timeoutMs)
    for (const g of this.groups.values()) {
      if (!(g instanceof GroupReplica)) continue
      for (const n of g.config.voters) peers.add(n)
      for (const n of g.config.learners) peers.add(n)
      this.quiescence.checkLiveness(g, silent, timeoutMs)
    }
    peers.delete(this.self)
    for (const node of peers) {
      if (!this.liveness.needsPing(node, now, this.o.livenessIntervalMs)) continue
      this.counters.pingsSent++
      this.outbox.ping(node)
    }
  }
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
    onStop: (host) => host.groups.stopAll(),
    supervision: { onFailure: 'resume' },
    mailbox: { capacity: 1_000_000 },
    receive(host, msg: Message<HostProtocol>) {
      switch (msg.type) {
        case 'open':
          return host.groups.open(msg.payload.spec)
        case 'opened':
          return host.groups.opened(msg.payload)
        case 'close':
          return host.groups.close(msg.payload.group)
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
        case 'transferAway':
          return host.router.transferAway(msg.payload)
        case 'status':
          return host.groups.status(msg.payload.group)
        case 'stats':
          return host.stats()
        case 'raft':
          return host.receive(msg.payload)
        case 'tick':
          return host.tick()
        case 'synced':
          return host.drainLoop.synced(msg.payload.batch, msg.payload.error)
        case 'drain':
          return host.drainLoop.run()
      }
    },
  })
}
