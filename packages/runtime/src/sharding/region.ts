import type { ActorRef } from '../actor-ref.js'
import type { ActorContext } from '../context.js'
import type { ActorDef } from '../define.js'
import { TroupeError, invariant, isTroupeError } from '../errors.js'
import type { ReplyTarget } from '../internal/envelope.js'
import type { Signal } from '../signals.js'
import type { ActorSystem } from '../system.js'
import { permitHeld, rememberPermit } from './activation-guard.js'
import type { ActivationGuard, ActivationPermit } from './activation-guard.js'
import { AllocationCache, keyOf, normalizeMembers } from './allocation.js'
import type { Allocation } from './allocation.js'
import { STOP_TOKEN, STOP_TYPE } from './entity-def.js'
import { childName, entityKey, rememberIdentity } from './entity-id.js'
import { entityPath } from './entity-ref.js'
import type { RouteMsg } from './entity-ref.js'
import { shardOf } from './hashing.js'
import { LocalShard } from './local-shard.js'
import type { Acquisition, Buffered, EntityEntry } from './local-shard.js'
import type { MembershipView } from './membership-view.js'
import { MAX_HOPS, REGION_PATH, isReleasedMsg, isRouteMsg, isStatusMsg } from './region-protocol.js'
import type { ReleasedMsg, StatusMsg } from './region-protocol.js'

export interface RegionConfig {
  readonly shards: number
  /** 0 disables passivation. */
  readonly passivateAfterMs: number
  readonly handoffTimeoutMs: number
  readonly maxBufferedMessages: number
  readonly tickMs: number
  /** Strict single activation: an entity runs only under a permit from this guard. */
  readonly activationGuard: ActivationGuard | null
  /** First retry delay after the guard failed to answer (doubles per failure, up to 32×). */
  readonly permitRetryMs: number
}

/** The guard's answer, back in the region's turn; only this class is accepted (a wire payload never is one). */
class PermitOutcome {
  constructor(
    readonly key: string,
    readonly attempt: number,
    readonly permit: ActivationPermit | null,
    readonly error: unknown,
  ) {}
}

/** An active entity's permit fired. */
class PermitLost {
  constructor(readonly entry: EntityEntry) {}
}

/** What this node knows of a peer region, from its last status. */
interface PeerStatus {
  readonly table: Allocation | null
  readonly handingOff: Set<number>
  /**
   * The peer's view holds this node, so the peer tells this node of every
   * change of its view (FIFO link): only then does its status stay current.
   */
  readonly seesMe: boolean
}

export interface RegionStats {
  readonly node: string
  readonly members: readonly string[]
  readonly shardsActive: number
  readonly shardsWaiting: number
  readonly shardsHandingOff: number
  /** Entity actors alive on this node (including ones being stopped). */
  readonly entities: number
  /** Messages held for waiting, handing-off or passivating shards and entities, or parked. */
  readonly buffered: number
  readonly activations: number
  readonly passivations: number
  /** Shards this node released to a new owner. */
  readonly handoffs: number
  readonly forwarded: number
  /** Entities waiting for their activation permit (strict single activation). */
  readonly acquiring: number
  /** Entities stopped because their permit was lost. */
  readonly permitsLost: number
  /** Failed permit requests (each retried). */
  readonly permitFailures: number
}

/**
 * The shard region of one node (/system/sharding). It routes every message
 * for an entity: to a local entity (activating it on first use), to the
 * owner's region, or into a bounded buffer while the shard moves. The state
 * machine per shard is in local-shard.ts; the guarantees in the package README (Entities).
 */
export class ShardRegion {
  private ctx!: ActorContext<any>
  private members: string[] = []
  private table: Allocation | null = null
  private viewKey: string | null = null
  private readonly peers = new Map<string, PeerStatus>()
  /**
   * Nodes that left this node's view, until when they still count: they keep
   * getting statuses and releases, and the shards a departed node reported
   * handing off (it left its own view: a leave or a downing) stay blocked
   * until it releases them or this time passes (it may have crashed).
   */
  private readonly departed = new Map<string, number>()
  private readonly shards = new Map<number, LocalShard>()
  private readonly byRef = new Map<ActorRef<any>, EntityEntry>()
  /** Active entities, least recently used first (the passivation scan stops at the first busy one). */
  private readonly lru = new Map<string, EntityEntry>()
  /** Messages with nowhere to go yet (no members, or bounced MAX_HOPS times); retried on any change. */
  private parked: Buffered[] = []
  private bufferedCount = 0
  private readonly regionRefs = new Map<string, ActorRef>()
  private releasedPending: number[] = []
  private redispatchPending: Buffered[] = []
  private serial = 0
  private activations = 0
  private passivations = 0
  private handoffs = 0
  private forwarded = 0
  /** Entities waiting for a permit, by entity key. */
  private readonly acquiring = new Map<string, Acquisition>()
  private permitsLost = 0
  private permitFailures = 0
  private stopped = false
  private readonly allocations: AllocationCache

  constructor(
    private readonly system: ActorSystem,
    private readonly view: MembershipView,
    private readonly kinds: ReadonlyMap<string, ActorDef<any, any>>,
    private readonly config: RegionConfig,
  ) {
    this.allocations = new AllocationCache(config.shards)
  }

  private get self(): string {
    return this.view.self
  }

  // ---- actor entry points ----------------------------------------------

  start(ctx: ActorContext<any>): void {
    this.ctx = ctx
    ctx.timers.startPeriodic('tick', this.config.tickMs, 'tick', undefined)
    this.onViewChanged()
    this.afterTurn()
  }

  receive(type: string, payload: unknown, ctx: ActorContext<any>): void {
    switch (type) {
      case 'route':
        this.onRoute(payload, ctx)
        break
      case 'status':
        this.onStatus(payload)
        break
      case 'released':
        this.onReleased(payload)
        break
      case 'view-changed':
        this.onViewChanged()
        break
      case 'tick':
        this.onTick()
        break
      case 'permit':
        if (payload instanceof PermitOutcome) this.onPermit(payload)
        else this.system.deadLetter(REGION_PATH, type, payload, 'unknown-message')
        break
      case 'permit-lost':
        if (payload instanceof PermitLost) this.onPermitLost(payload.entry)
        else this.system.deadLetter(REGION_PATH, type, payload, 'unknown-message')
        break
      default:
        this.system.deadLetter(REGION_PATH, type, payload, 'unknown-message')
    }
    this.afterTurn()
  }

  signal(signal: Signal): void {
    this.onEntityStopped(signal.ref)
    this.afterTurn()
  }

  /** The region is stopping: its entities are gone; what it still holds becomes dead letters. */
  stop(): void {
    this.stopped = true
    // The entities (children) have stopped by now: their permits can go.
    for (const entry of this.byRef.values()) this.releasePermit(entry)
    this.byRef.clear()
    for (const acq of this.acquiring.values()) acq.controller?.abort()
    this.acquiring.clear()
    const held = [...this.parked, ...this.redispatchPending]
    for (const shard of this.shards.values()) held.push(...shard.buffer)
    this.parked = []
    this.redispatchPending = []
    this.shards.clear()
    this.bufferedCount = 0
    for (const m of held) this.drop(m, 'stopped', new TroupeError('ACTOR_STOPPED', `sharding on ${this.self} stopped before delivering '${m.type}' to ${m.kind}/${m.id}`))
  }

  stats(): RegionStats {
    let active = 0
    let waiting = 0
    let handingOff = 0
    let entities = 0
    for (const s of this.shards.values()) {
      if (s.phase === 'active') active++
      else if (s.phase === 'waiting') waiting++
      else handingOff++
      entities += s.entities.size
    }
    return {
      node: this.self,
      members: this.members,
      shardsActive: active,
      shardsWaiting: waiting,
      shardsHandingOff: handingOff,
      entities,
      buffered: this.bufferedCount,
      activations: this.activations,
      passivations: this.passivations,
      handoffs: this.handoffs,
      forwarded: this.forwarded,
      acquiring: this.acquiring.size,
      permitsLost: this.permitsLost,
      permitFailures: this.permitFailures,
    }
  }

  // ---- routing ----------------------------------------------------------

  private onRoute(payload: unknown, ctx: ActorContext<any>): void {
    const deferred = ctx.deferReply()
    const reply: ReplyTarget | null = deferred.expected ? deferred : null
    if (!isRouteMsg(payload)) {
      this.system.deadLetter(REGION_PATH, 'route', payload, 'malformed-route')
      reply?.reject(new TroupeError('INVALID_ENTITY_ID', `malformed message for an entity (bad kind, id or fields)`))
      return
    }
    const [kind, id, type, body, hops, timeoutMs] = payload
    const askTimeoutMs = reply === null ? 0 : timeoutMs > 0 ? timeoutMs : this.system.askTimeoutMs
    this.dispatch({ kind, id, key: entityKey(kind, id), type, payload: body, sender: ctx.sender, reply, hops, timeoutMs: askTimeoutMs, atMs: this.now() })
  }

  private dispatch(m: Buffered): void {
    const s = shardOf(m.id, this.config.shards)
    const local = this.shards.get(s)
    if (local !== undefined) return this.toLocal(local, m)
    const owner = this.table?.ownerOf(s)
    if (owner === undefined) return this.hold(this.parked, m)
    if (owner === this.self) {
      const shard = new LocalShard(s, this.canActivate(s) ? 'active' : 'waiting', this.now())
      this.shards.set(s, shard)
      return this.toLocal(shard, m)
    }
    if (m.hops >= MAX_HOPS) return this.hold(this.parked, m)
    this.forward(owner, m)
  }

  private toLocal(shard: LocalShard, m: Buffered): void {
    if (shard.phase === 'waiting' || shard.phase === 'stopping') return this.hold(shard.buffer, m)
    const def = this.kinds.get(m.kind)
    if (def === undefined) {
      return this.drop(m, 'unknown-entity-kind', new TroupeError('UNKNOWN_ENTITY_KIND', `entity kind '${m.kind}' is not registered on node ${this.self}`))
    }
    const entry = shard.entities.get(m.key)
    if (entry?.stopping) return this.hold(shard.buffer, m)
    if (entry !== undefined) return this.deliver(entry, m)
    if (this.config.activationGuard === null) return this.deliver(this.activate(shard, m, def, null), m)
    // Strict single activation: the messages wait for the permit.
    this.hold(shard.buffer, m)
    if (!this.acquiring.has(m.key)) this.beginAcquire(shard, m)
  }

  private activate(shard: LocalShard, who: { key: string; kind: string; id: string }, def: ActorDef<any, any>, permit: ActivationPermit | null): EntityEntry {
    const ref = this.ctx.spawn(def, { name: childName(who.kind, who.id, ++this.serial) })
    rememberIdentity(ref, { kind: who.kind, id: who.id })
    if (permit !== null) rememberPermit(ref, permit)
    this.ctx.watch(ref)
    const entry: EntityEntry = { key: who.key, kind: who.kind, id: who.id, shard: shard.id, ref, lastActiveMs: this.now(), stopping: null, permit }
    shard.entities.set(who.key, entry)
    this.byRef.set(ref, entry)
    this.activations++
    return entry
  }

  // ---- strict single activation ---------------------------------------------

  private beginAcquire(shard: LocalShard, who: { key: string; kind: string; id: string }): void {
    const acq: Acquisition = { key: who.key, kind: who.kind, id: who.id, shard: shard.id, attempt: 0, controller: null, failures: 0, retryAtMs: 0 }
    this.acquiring.set(who.key, acq)
    this.requestPermit(acq)
  }

  private requestPermit(acq: Acquisition): void {
    const guard = this.config.activationGuard
    invariant(guard !== null, 'permit requested without an activation guard')
    const attempt = ++this.serial
    const controller = new AbortController()
    acq.attempt = attempt
    acq.controller = controller
    const self = this.ctx.self
    const answer = (permit: ActivationPermit | null, error: unknown) => {
      if (this.stopped) {
        if (permit !== null) void Promise.resolve(permit.release()).catch(() => undefined)
        return
      }
      self.tell('permit', new PermitOutcome(acq.key, attempt, permit, error))
    }
    Promise.resolve()
      .then(() => guard.acquire(acq.kind, acq.id, controller.signal))
      .then(
        (permit) => answer(permit, null),
        (error: unknown) => answer(null, error ?? new Error('activation guard rejected')),
      )
  }

  private onPermit(outcome: PermitOutcome): void {
    const acq = this.acquiring.get(outcome.key)
    const permit = outcome.permit
    if (acq === undefined || acq.attempt !== outcome.attempt) {
      // Nobody waits for it any more (the shard moved, or an aborted attempt answered late).
      if (permit !== null) this.releasePermitOf(permit)
      return
    }
    const shard = this.shards.get(acq.shard)
    if (shard === undefined || (shard.phase !== 'active' && shard.phase !== 'draining')) {
      this.acquiring.delete(acq.key)
      if (permit !== null) this.releasePermitOf(permit)
      return
    }
    if (permit === null || !permitHeld(permit)) {
      if (permit !== null) this.releasePermitOf(permit)
      this.permitFailures++
      acq.controller = null
      acq.failures++
      acq.retryAtMs = this.now() + this.config.permitRetryMs * 2 ** Math.min(acq.failures - 1, 5)
      return
    }
    this.acquiring.delete(acq.key)
    const def = this.kinds.get(acq.kind)
    if (def === undefined) {
      this.releasePermitOf(permit)
      for (const m of this.takeBuffered(shard, acq.key)) this.toLocal(shard, m)
      return
    }
    const entry = this.activate(shard, acq, def, permit)
    const self = this.ctx.self
    permit.signal.addEventListener('abort', () => self.tell('permit-lost', new PermitLost(entry)), { once: true })
    for (const m of this.takeBuffered(shard, acq.key)) this.deliver(entry, m)
  }

  /** The permit of a live entity fired: stop it after its current message (what it still holds is not handled). */
  private onPermitLost(entry: EntityEntry): void {
    if (this.byRef.get(entry.ref) !== entry || entry.stopping === 'forced') return
    this.permitsLost++
    this.lru.delete(entry.key)
    entry.stopping = 'forced'
    this.ctx.stop(entry.ref)
  }

  /** Retries permits whose request failed, while their shard still wants them. */
  private retryPermits(now: number): void {
    for (const acq of this.acquiring.values()) {
      if (acq.controller !== null || acq.retryAtMs > now) continue
      const shard = this.shards.get(acq.shard)
      if (shard === undefined || (shard.phase !== 'active' && shard.phase !== 'draining')) {
        this.acquiring.delete(acq.key)
        continue
      }
      this.requestPermit(acq)
    }
  }

  /** The shard stops hosting: its pending permit requests are called off (its buffer moves on with it). */
  private abortAcquisitions(shardId: number): void {
    for (const acq of this.acquiring.values()) {
      if (acq.shard !== shardId) continue
      this.acquiring.delete(acq.key)
      acq.controller?.abort()
    }
  }

  private takeBuffered(shard: LocalShard, key: string): Buffered[] {
    const mine = shard.takeFor(key)
    this.bufferedCount -= mine.length
    return mine
  }

  private releasePermit(entry: EntityEntry): void {
    if (entry.permit !== null) this.releasePermitOf(entry.permit)
  }

  private releasePermitOf(permit: ActivationPermit): void {
    try {
      void Promise.resolve(permit.release()).catch(() => undefined)
    } catch {
      // A guard's release is best effort: the permit lapses by itself.
    }
  }

  private deliver(entry: EntityEntry, m: Buffered): void {
    entry.lastActiveMs = this.now()
    this.lru.delete(entry.key)
    this.lru.set(entry.key, entry)
    try {
      entry.ref._target.deliver(m.type, m.payload, m.sender, m.reply)
    } catch {
      // MAILBOX_FULL under the 'reject' policy: the entity already dead-lettered it.
    }
  }

  private forward(owner: string, m: Buffered): void {
    const target = this.regionOf(owner)._target
    const msg: RouteMsg = [m.kind, m.id, m.type, m.payload, m.hops + 1, m.timeoutMs]
    this.forwarded++
    const reply = m.reply
    if (reply === null) {
      try {
        target.deliver('route', msg, m.sender, null)
      } catch (err) {
        this.drop(m, isTroupeError(err) ? err.code.toLowerCase() : 'send-failed', null)
      }
      return
    }
    // The hop gets its own deadline (what remains of the asker's), so an unanswered hop cannot leak.
    const remainingMs = Math.max(1, m.timeoutMs - (this.now() - m.atMs))
    target.ask('route', msg, m.sender, remainingMs, (v) => reply.resolve(v), (e) => reply.reject(e))
  }

  private hold(buffer: Buffered[], m: Buffered): void {
    if (this.bufferedCount >= this.config.maxBufferedMessages) {
      const error = new TroupeError('SHARD_BUFFER_FULL', `sharding buffer of ${this.self} is full (${this.config.maxBufferedMessages} messages); '${m.type}' to ${m.kind}/${m.id} dropped`)
      return this.drop(m, 'shard-buffer-full', error)
    }
    buffer.push(m)
    this.bufferedCount++
  }

  private drop(m: Buffered, reason: string, error: Error | null): void {
    this.system.deadLetter(entityPath(m.kind, m.id), m.type, m.payload, reason)
    if (error !== null) m.reply?.reject(error)
  }

  private regionOf(node: string): ActorRef {
    let ref = this.regionRefs.get(node)
    if (ref === undefined) {
      ref = this.system.remoteRef(node, REGION_PATH)
      this.regionRefs.set(node, ref)
    }
    return ref
  }

  // ---- membership and peers ------------------------------------------------

  private onViewChanged(): void {
    const members = normalizeMembers(this.view.upMembers())
    const key = keyOf(members)
    if (key === this.viewKey) return
    const untilMs = this.now() + 2 * this.config.handoffTimeoutMs
    for (const node of this.members) if (!members.includes(node) && node !== this.self) this.departed.set(node, untilMs)
    for (const node of members) this.departed.delete(node)
    this.viewKey = key
    this.members = members
    this.table = this.allocations.get(members)
    const orphaned: Buffered[] = []
    for (const [s, shard] of this.shards) {
      const mine = this.table?.ownerOf(s) === this.self
      if (shard.phase === 'waiting' && !mine) {
        this.shards.delete(s)
        orphaned.push(...shard.buffer)
      } else if (shard.phase === 'active' && !mine) {
        shard.phase = 'draining'
        shard.sinceMs = this.now()
      } else if (shard.phase === 'draining' && mine) {
        shard.phase = 'active'
      }
    }
    for (const node of this.peers.keys()) if (!members.includes(node) && !this.departed.has(node)) this.peers.delete(node)
    // The status goes out before anything routed under the new view: it is also the marker
    // after which no message of this node follows an old route.
    this.broadcastStatus()
    this.bufferedCount -= orphaned.length
    for (const m of orphaned) this.dispatch(m)
    this.reevaluate()
  }

  private onStatus(payload: unknown): void {
    const shards = (payload as Partial<StatusMsg> | null)?.shards
    if (typeof shards === 'number' && shards !== this.config.shards) {
      return this.system.deadLetter(REGION_PATH, 'status', payload, 'shard-count-mismatch')
    }
    if (!isStatusMsg(payload, this.config.shards)) return this.system.deadLetter(REGION_PATH, 'status', payload, 'malformed-status')
    if (payload.node === this.self) return
    const known = this.incarnationOf(payload.node)
    // A late status from an earlier incarnation of the peer says nothing about the current one.
    if (payload.incarnation !== null && known !== null && payload.incarnation < known) return this.system.deadLetter(REGION_PATH, 'status', payload, 'stale-incarnation')
    const members = normalizeMembers(payload.members)
    const mine = this.incarnationOf(this.self)
    const seesMe = members.includes(this.self) && (payload.yourIncarnation === null || mine === null || payload.yourIncarnation === mine)
    this.peers.set(payload.node, { table: this.allocations.get(members), handingOff: new Set(payload.handingOff), seesMe })
    if (payload.reply) this.sendStatus(payload.node, false, this.handingOffList())
    this.reevaluate()
  }

  private onReleased(payload: unknown): void {
    if (!isReleasedMsg(payload, this.config.shards)) return this.system.deadLetter(REGION_PATH, 'released', payload, 'malformed-released')
    const peer = this.peers.get(payload.node)
    if (peer === undefined) return
    for (const s of payload.shards) peer.handingOff.delete(s)
    this.reevaluate()
  }

  private broadcastStatus(): void {
    const handingOff = this.handingOffList()
    for (const node of this.targets()) this.sendStatus(node, this.peers.get(node)?.seesMe !== true, handingOff)
  }

  /** Who hears of this node's status and releases: the members and the recently departed. */
  private targets(): Set<string> {
    const out = new Set(this.members)
    for (const node of this.departed.keys()) out.add(node)
    out.delete(this.self)
    return out
  }

  private sendStatus(node: string, reply: boolean, handingOff: number[]): void {
    const yours = this.members.includes(node) ? this.incarnationOf(node) : null
    const status: StatusMsg = { node: this.self, members: this.members, handingOff, shards: this.config.shards, reply, incarnation: this.incarnationOf(this.self), yourIncarnation: yours }
    this.send(node, 'status', status)
  }

  private handingOffList(): number[] {
    const out: number[] = []
    for (const shard of this.shards.values()) if (shard.handingOff) out.push(shard.id)
    return out
  }

  private send(node: string, type: 'status' | 'released', payload: StatusMsg | ReleasedMsg): void {
    try {
      this.ctx.tell(this.regionOf(node), type, payload)
    } catch (err) {
      this.system.deadLetter(`${node}${REGION_PATH}`, type, payload, isTroupeError(err) ? err.code.toLowerCase() : 'send-failed')
    }
  }

  /**
   * Owner under this node's view, and no peer's last status claims the shard:
   * no member owns it under its own view or hands it off, and no recently
   * departed node still hands it off. A member's status counts only once its
   * view holds this node: before that it does not send this node its changes,
   * so what it said may be stale (a rejoin seen at different times).
   */
  private canActivate(s: number): boolean {
    for (const node of this.members) {
      if (node === this.self) continue
      const peer = this.peers.get(node)
      if (peer === undefined || !peer.seesMe || peer.table?.ownerOf(s) === node || peer.handingOff.has(s)) return false
    }
    const now = this.now()
    for (const [node, untilMs] of this.departed) {
      if (untilMs > now && this.peers.get(node)?.handingOff.has(s)) return false
    }
    return true
  }

  /** Every peer's last status routes the shard elsewhere: nothing more of theirs is on its way here. */
  private noPeerRoutesHere(s: number): boolean {
    for (const node of this.members) {
      if (node === this.self) continue
      const peer = this.peers.get(node)
      if (peer === undefined || peer.table?.ownerOf(s) === this.self) return false
    }
    return true
  }

  /** Moves shards forward after anything that may unblock them. */
  private reevaluate(): void {
    const now = this.now()
    for (const shard of this.shards.values()) {
      if (shard.phase === 'waiting') {
        if (this.canActivate(shard.id)) this.activateShard(shard)
      } else if (shard.phase === 'draining') {
        if (this.noPeerRoutesHere(shard.id) || now - shard.sinceMs >= this.config.handoffTimeoutMs) this.beginStopping(shard)
      }
    }
    if (this.parked.length > 0) {
      const parked = this.parked
      this.parked = []
      this.bufferedCount -= parked.length
      for (const m of parked) {
        m.hops = 0
        this.dispatch(m)
      }
    }
  }

  private activateShard(shard: LocalShard): void {
    shard.phase = 'active'
    const held = shard.buffer
    shard.buffer = []
    this.bufferedCount -= held.length
    for (const m of held) this.toLocal(shard, m)
  }

  // ---- handoff and passivation ---------------------------------------------

  private beginStopping(shard: LocalShard): void {
    shard.phase = 'stopping'
    shard.sinceMs = this.now()
    this.abortAcquisitions(shard.id)
    for (const entry of shard.entities.values()) {
      if (entry.stopping !== null) continue
      entry.stopping = 'handoff'
      this.lru.delete(entry.key)
      this.sendStop(entry)
    }
    if (shard.entities.size === 0) this.release(shard)
  }

  private release(shard: LocalShard): void {
    this.shards.delete(shard.id)
    this.handoffs++
    this.releasedPending.push(shard.id)
    this.bufferedCount -= shard.buffer.length
    for (const m of shard.buffer) this.redispatchPending.push(m)
  }

  private sendStop(entry: EntityEntry): void {
    try {
      entry.ref._target.deliver(STOP_TYPE, STOP_TOKEN, null, null)
    } catch {
      // Its mailbox is full: stop it after its current message; what it still holds is dead-lettered.
      entry.stopping = 'forced'
      this.ctx.stop(entry.ref)
    }
  }

  private onEntityStopped(ref: ActorRef): void {
    const entry = this.byRef.get(ref)
    if (entry === undefined) return
    this.byRef.delete(ref)
    if (this.lru.get(entry.key) === entry) this.lru.delete(entry.key)
    const shard = this.shards.get(entry.shard)
    invariant(shard !== undefined && shard.entities.get(entry.key) === entry, `entity ${entry.key} stopped outside its shard`)
    shard.entities.delete(entry.key)
    this.releasePermit(entry)
    if (entry.stopping === 'passivate') this.passivations++
    if (shard.phase === 'stopping') {
      if (shard.entities.size === 0) this.release(shard)
      return
    }
    // Messages that arrived while it passivated (or after it stopped itself) start a new incarnation.
    for (const m of this.takeBuffered(shard, entry.key)) this.toLocal(shard, m)
  }

  private onTick(): void {
    const now = this.now()
    for (const [node, untilMs] of this.departed) {
      if (untilMs > now) continue
      this.departed.delete(node)
      this.peers.delete(node)
    }
    if (this.config.passivateAfterMs > 0) {
      for (const entry of this.lru.values()) {
        if (now - entry.lastActiveMs < this.config.passivateAfterMs) break
        this.lru.delete(entry.key)
        entry.stopping = 'passivate'
        this.sendStop(entry)
      }
    }
    for (const shard of this.shards.values()) {
      if (shard.phase !== 'stopping' || now - shard.sinceMs < this.config.handoffTimeoutMs) continue
      // An entity that does not get through its mailbox in time is stopped after its current message.
      for (const entry of shard.entities.values()) {
        if (entry.stopping === 'forced') continue
        entry.stopping = 'forced'
        this.ctx.stop(entry.ref)
      }
    }
    if (this.acquiring.size > 0) this.retryPermits(now)
    this.reevaluate()
    this.pokePeers()
  }

  /** Asks peers whose status holds a shard up to send it again (a status may have been lost). */
  private pokePeers(): void {
    const poke = new Set<string>()
    for (const node of this.members) if (node !== this.self && this.peers.get(node)?.seesMe !== true) poke.add(node)
    for (const shard of this.shards.values()) {
      if (shard.phase !== 'waiting' && shard.phase !== 'draining') continue
      for (const [node, peer] of this.peers) {
        const owner = peer.table?.ownerOf(shard.id)
        if (!this.members.includes(node) && !this.departed.has(node)) continue
        const blocks = shard.phase === 'waiting' ? owner === node || peer.handingOff.has(shard.id) : owner === this.self
        if (blocks) poke.add(node)
      }
    }
    if (poke.size === 0) return
    const handingOff = this.handingOffList()
    for (const node of poke) this.sendStatus(node, true, handingOff)
  }

  /** Work deferred to the end of a turn: one 'released' per turn, then what the released shards held. */
  private afterTurn(): void {
    if (this.releasedPending.length > 0) {
      const released: ReleasedMsg = { node: this.self, shards: this.releasedPending }
      this.releasedPending = []
      for (const node of this.targets()) this.send(node, 'released', released)
    }
    if (this.redispatchPending.length > 0) {
      const pending = this.redispatchPending
      this.redispatchPending = []
      for (const m of pending) this.dispatch(m)
    }
  }

  private incarnationOf(node: string): number | null {
    return this.view.incarnationOf?.(node) ?? null
  }

  private now(): number {
    return this.system.clock.now()
  }
}
