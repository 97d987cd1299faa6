import type { ActorContext } from '../context.js'
import { TroupeError, isTroupeError } from '../errors.js'
import type { ReplyTarget } from '../internal/envelope.js'
import type { ActivationPermits, PermitGranted } from './activation-permits.js'
import { entityKey } from './entity-id.js'
import type { RouteMsg } from './entity-ref.js'
import { shardOf } from './hashing.js'
import type { LocalEntities } from './local-entities.js'
import { LocalShard } from './local-shard.js'
import type { Buffered } from './local-shard.js'
import type { RegionBuffer } from './region-buffer.js'
import type { RegionContext } from './region-context.js'
import type { RegionPeers } from './region-peers.js'
import { MAX_HOPS, REGION_PATH, isNoRegionAt, isRouteMsg } from './region-protocol.js'

/** A forwarded ask came back: the owner has no region (yet). Only this class is accepted (a wire payload never is one). */
export class Bounced {
  constructor(
    readonly owner: string,
    readonly message: Buffered,
  ) {}
}

/**
 * Where a message for an entity goes: to a local entity (activating it on
 * first use, or once its permit arrives), to the owner's region, or into the
 * bounded buffer while its shard waits or moves.
 */
export class ShardRouter {
  /** Messages forwarded to another node's region. */
  forwarded = 0

  constructor(
    private readonly rc: RegionContext,
    private readonly peers: RegionPeers,
    private readonly buffer: RegionBuffer,
    private readonly entities: LocalEntities,
    private readonly permits: ActivationPermits,
  ) {}

  /** A 'route' message: from an entity ref on this node or another region. */
  onRoute(payload: unknown, ctx: ActorContext<any>): void {
    const deferred = ctx.deferReply()
    const reply: ReplyTarget | null = deferred.expected ? deferred : null
    const system = this.rc.system
    if (!isRouteMsg(payload)) {
      system.deadLetter(REGION_PATH, 'route', payload, 'malformed-route')
      reply?.reject(new TroupeError('INVALID_ENTITY_ID', `malformed message for an entity (bad kind, id or fields)`))
      return
    }
    const [kind, id, type, body, hops, timeoutMs] = payload
    const askTimeoutMs = reply === null ? 0 : timeoutMs > 0 ? timeoutMs : system.askTimeoutMs
    this.dispatch({ kind, id, key: entityKey(kind, id), type, payload: body, sender: ctx.sender, reply, hops, timeoutMs: askTimeoutMs, atMs: this.rc.now() })
  }

  dispatch(m: Buffered): void {
    const rc = this.rc
    const s = shardOf(m.id, rc.config.shards)
    const local = rc.shards.get(s)
    if (local !== undefined) return this.toLocal(local, m)
    // Joining: another region routed this here as to the owner, but this node's own view does not
    // hold it yet. Sent back it would bounce between the views; it waits here, in order, until this
    // node is up in its own view.
    if (!this.peers.upOnce && m.hops > 0) return this.buffer.hold(this.buffer.parked, m)
    const owner = this.peers.table?.ownerOf(s)
    if (owner === undefined) return this.buffer.hold(this.buffer.parked, m)
    if (owner === rc.self) {
      const shard = new LocalShard(s, this.peers.canActivate(s) ? 'active' : 'waiting', rc.now())
      rc.shards.set(s, shard)
      return this.toLocal(shard, m)
    }
    // The owner's region has not reported yet (its sharding starts later than its membership, or
    // it restarted): forwarded now, the message would find no region there. It waits here until
    // the owner's status comes (asked for every tick), whoever sent it.
    if (m.hops >= MAX_HOPS || !this.peers.hasRegion(owner)) return this.buffer.hold(this.buffer.parked, m)
    this.forward(owner, m)
  }

  /** A message for a shard this node has state for. */
  toLocal(shard: LocalShard, m: Buffered): void {
    if (shard.phase === 'waiting' || shard.phase === 'stopping') return this.buffer.hold(shard.buffer, m)
    const def = this.rc.kinds.get(m.kind)
    if (def === undefined) {
      return this.buffer.drop(m, 'unknown-entity-kind', new TroupeError('UNKNOWN_ENTITY_KIND', `entity kind '${m.kind}' is not registered on node ${this.rc.self}`))
    }
    const entry = shard.entities.get(m.key)
    if (entry?.stopping) return this.buffer.hold(shard.buffer, m)
    if (entry !== undefined) return this.entities.deliver(entry, m)
    if (this.rc.config.activationGuard === null) return this.entities.deliver(this.entities.activate(shard, m, def, null), m)
    // Strict single activation: the messages wait for the permit.
    this.buffer.hold(shard.buffer, m)
    if (!this.permits.isAcquiring(m.key)) this.permits.begin(shard, m)
  }

  /** An entity has stopped: messages that arrived while it stopped start a new incarnation. */
  redeliver(shard: LocalShard, key: string): void {
    for (const m of this.buffer.takeFor(shard, key)) this.toLocal(shard, m)
  }

  /** A permit arrived: the entity's waiting messages go to it (or are routed again if it could not start). */
  deliverGranted(granted: PermitGranted): void {
    const { shard, key, entry } = granted
    if (entry === null) return this.redeliver(shard, key)
    for (const m of this.buffer.takeFor(shard, key)) this.entities.deliver(entry, m)
  }

  /** A forwarded ask found no region at its owner: the owner's status is void, and the message waits for a new one. */
  onBounced(bounced: Bounced): void {
    this.peers.forget(bounced.owner)
    this.buffer.hold(this.buffer.parked, bounced.message)
  }

  /** Routes the parked messages again, from scratch (after anything that may give them a way). */
  retryParked(): void {
    if (this.buffer.parked.length === 0) return
    for (const m of this.buffer.takeParked()) {
      if (this.peers.upOnce) m.hops = 0
      this.dispatch(m)
    }
  }

  private forward(owner: string, m: Buffered): void {
    const target = this.peers.regionOf(owner)._target
    const msg: RouteMsg = [m.kind, m.id, m.type, m.payload, m.hops + 1, m.timeoutMs]
    this.forwarded++
    const reply = m.reply
    if (reply === null) {
      try {
        target.deliver('route', msg, m.sender, null)
      } catch (err) {
        this.buffer.drop(m, isTroupeError(err) ? err.code.toLowerCase() : 'send-failed', null)
      }
      return
    }
    // The hop gets its own deadline (what remains of the asker's), so an unanswered hop cannot leak.
    const remainingMs = Math.max(1, m.timeoutMs - (this.rc.now() - m.atMs))
    const self = this.rc.ctx.self
    const bounced = (e: unknown) => {
      if (!isNoRegionAt(e, owner)) return reply.reject(e)
      try {
        self.tell('bounced', new Bounced(owner, m))
      } catch {
        reply.reject(e)
      }
    }
    target.ask('route', msg, m.sender, remainingMs, (v) => reply.resolve(v), bounced)
  }
}
