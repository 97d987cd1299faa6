import type { ActorRef } from '../actor-ref.js'
import type { ActorDef } from '../define.js'
import { defineBehavior } from '../define.js'
import { TroupeError } from '../errors.js'
import type { AnyProtocol, Protocol } from '../protocol.js'
import type { ActorSystem } from '../system.js'
import type { ActivationGuard } from './activation-guard.js'
import { wrapEntity } from './entity-def.js'
import { checkEntityId, checkKindName } from './entity-id.js'
import { EntityTarget, entityRef, installEntityRefResolver } from './entity-ref.js'
import { shardOf } from './hashing.js'
import type { MembershipView } from './membership-view.js'
import { HandedOffWaiter, ShardRegion } from './region.js'
import type { RegionConfig, RegionStats } from './region.js'
import { REGION_NAME } from './region-protocol.js'

export interface ShardingOptions {
  /** Number of shards; must be the same on every node (default 1024). */
  shards?: number
  /** An entity that got no message for this long is stopped; 0 disables (default 120,000). */
  passivateAfterMs?: number
  /**
   * Upper bound on each of the two waits of a handoff: for peers to stop
   * routing to the old owner, then for its entities to work through their
   * mailboxes (after which they are stopped after their current message).
   * Default 10,000.
   */
  handoffTimeoutMs?: number
  /** Messages a region holds while shards move, across all shards (default 100,000). */
  maxBufferedMessages?: number
  /** Period of the region's housekeeping: passivation, timeouts, status retries (default: a quarter of the smaller of passivateAfterMs and handoffTimeoutMs, 10..1000 ms). */
  tickMs?: number
  /** Mailbox capacity of the region actor (default 1,000,000). */
  mailboxCapacity?: number
  /**
   * Strict single activation: an entity runs on this node only while it holds
   * a permit from this guard (with `@troupe/lease`: `leaseActivationGuard`),
   * and its state writes carry the permit's fencing token
   * (`entityActivation(ctx).token`). Give every node the same kind of guard.
   */
  activationGuard?: ActivationGuard
  /** First retry delay after the guard failed (doubling per failure, up to 32×; default 100). */
  permitRetryMs?: number
}

export type ShardingStats = RegionStats

/**
 * Sharded entities (virtual actors) on one node. Every node starts sharding
 * with the same options and registers the same kinds; `entity(Kind, id)`
 * then gives a ref that works from any node: the first message activates the
 * entity on the shard's owner, chosen by rendezvous hashing over the up
 * members. Guarantees: the package README (Entities).
 */
export class Sharding {
  private readonly kinds = new Map<string, ActorDef<any, any>>()
  private readonly registered = new Map<string, ActorDef<any, any>>()
  private readonly region: ShardRegion
  private readonly regionRef: ActorRef<any>
  private readonly onChanged: () => void
  private readonly uninstallResolver: () => void
  private stopped: Promise<void> | null = null
  private readonly guarded: boolean

  private constructor(
    readonly system: ActorSystem,
    private readonly view: MembershipView,
    readonly shards: number,
    config: RegionConfig,
    mailboxCapacity: number,
  ) {
    const region = new ShardRegion(system, view, this.kinds, config)
    this.region = region
    this.guarded = config.activationGuard !== null
    const Region = defineBehavior<AnyProtocol, ShardRegion>({
      name: 'shard-region',
      initial: () => region,
      onStart: (r, ctx) => r.start(ctx),
      receive: (r, msg, ctx) => r.receive(msg.type, msg.payload, ctx),
      onSignal: (r, signal) => r.signal(signal),
      onStop: (r) => r.stop(),
      // A failure here is a bug in this file; keep routing rather than lose every entity.
      supervision: { onFailure: 'resume' },
      mailbox: { capacity: mailboxCapacity, overflow: 'reject' },
    })
    this.regionRef = system.spawnSystemActor(Region, { name: REGION_NAME })
    this.onChanged = () => this.regionRef.tell('view-changed')
    view.on('changed', this.onChanged)
    this.uninstallResolver = installEntityRefResolver(system, (kind, id) => this.refFor(kind, id))
  }

  /** Starts this node's shard region (/system/sharding). */
  static start(system: ActorSystem, view: MembershipView, options: ShardingOptions = {}): Sharding {
    if (view.self !== system.name) {
      throw new TroupeError('INVALID_ARGUMENT', `membership view is of node '${view.self}' but the system is '${system.name}'`)
    }
    const shards = options.shards ?? 1024
    const passivateAfterMs = options.passivateAfterMs ?? 120_000
    const handoffTimeoutMs = options.handoffTimeoutMs ?? 10_000
    const maxBufferedMessages = options.maxBufferedMessages ?? 100_000
    const mailboxCapacity = options.mailboxCapacity ?? 1_000_000
    checkInt('shards', shards, 1, 65_536)
    checkInt('maxBufferedMessages', maxBufferedMessages, 0, 1e9)
    checkInt('mailboxCapacity', mailboxCapacity, 1, 1e9)
    checkMs('passivateAfterMs', passivateAfterMs, true)
    checkMs('handoffTimeoutMs', handoffTimeoutMs, false)
    const smaller = Math.min(handoffTimeoutMs, passivateAfterMs > 0 ? passivateAfterMs : Infinity)
    const tickMs = options.tickMs ?? Math.min(1000, Math.max(10, Math.floor(smaller / 4)))
    checkMs('tickMs', tickMs, false)
    const activationGuard = options.activationGuard ?? null
    if (activationGuard !== null && typeof activationGuard.acquire !== 'function') throw new TroupeError('INVALID_ARGUMENT', 'activationGuard needs an acquire(kind, id, signal) method')
    const permitRetryMs = options.permitRetryMs ?? 100
    checkMs('permitRetryMs', permitRetryMs, false)
    const config: RegionConfig = { shards, passivateAfterMs, handoffTimeoutMs, maxBufferedMessages, tickMs, activationGuard, permitRetryMs }
    return new Sharding(system, view, shards, config, mailboxCapacity)
  }

  /** Makes a kind available as entities on this node. Register the same kinds on every node. */
  register(def: ActorDef<any, any>): void {
    const kind = checkKindName(def)
    const known = this.registered.get(kind)
    if (known === def) return
    if (known !== undefined) throw new TroupeError('INVALID_ARGUMENT', `another definition is already registered as entity kind '${kind}'`)
    this.registered.set(kind, def)
    this.kinds.set(kind, wrapEntity(def, this.guarded))
  }

  /**
   * A ref to entity `id` of `kind`. It is not bound to a node: each message
   * goes to whichever node owns the entity's shard at the time, and the ref
   * can be sent to other nodes inside messages. Throws UNKNOWN_ENTITY_KIND
   * for a kind not registered here, INVALID_ENTITY_ID for a bad id.
   */
  entity<P extends Protocol>(kind: ActorDef<P, any>, id: string): ActorRef<P> {
    const name = checkKindName(kind)
    if (this.registered.get(name) !== kind) {
      throw new TroupeError('UNKNOWN_ENTITY_KIND', `entity kind '${name}' is not registered on node ${this.system.name}`)
    }
    return entityRef<P>(new EntityTarget(this.regionRef._target, this.system.asks, name, checkEntityId(id)))
  }

  /** The shard of an entity id. */
  shardOf(id: string): number {
    return shardOf(checkEntityId(id), this.shards)
  }

  /** Counters and sizes of this node's region (read between turns; for tests and monitoring). */
  stats(): ShardingStats {
    return this.region.stats()
  }

  /**
   * Resolves once this node hosts no shard and its view no longer holds it:
   * after a graceful leave (`cluster.leave()`), every shard it hosted was
   * handed off (its entities stopped after the messages they held, what it
   * buffered was forwarded to the new owner, the others were told). While
   * this node is still up in its own view it owns shards, so this waits for
   * the leave. Also resolves when sharding stops. Bound it with your own
   * timeout (a shard drains for at most 2 × handoffTimeoutMs).
   */
  whenHandedOff(): Promise<void> {
    if (this.stopped !== null) return this.stopped
    return new Promise((resolve) => {
      // A region that stops (also with the system) hosts nothing any more.
      void this.system.whenTerminated(this.regionRef).then(() => resolve())
      try {
        this.regionRef.tell('when-handed-off', new HandedOffWaiter(resolve))
      } catch {
        resolve()
      }
    })
  }

  /**
   * Stops this node's region and its entities (each after its current
   * message; what they and the region still hold becomes dead letters). This
   * is not a handoff: leave the cluster first so peers take the shards over.
   */
  stop(): Promise<void> {
    if (this.stopped === null) {
      this.view.off?.('changed', this.onChanged)
      this.uninstallResolver()
      this.stopped = this.system.stop(this.regionRef).then(() => undefined)
    }
    return this.stopped
  }

  /** An entity ref for a ref that arrived from another node (the kind may be unknown here: messages then fail at delivery). */
  private refFor(kind: string, id: string): ActorRef {
    return entityRef(new EntityTarget(this.regionRef._target, this.system.asks, kind, id))
  }
}

function checkInt(name: string, v: number, min: number, max: number): void {
  if (!(Number.isInteger(v) && v >= min && v <= max)) throw new TroupeError('INVALID_ARGUMENT', `${name} must be an integer in ${min}..${max}, got ${v}`)
}

function checkMs(name: string, v: number, zeroAllowed: boolean): void {
  if (!(Number.isFinite(v) && (v > 0 || (zeroAllowed && v === 0)))) throw new TroupeError('INVALID_ARGUMENT', `${name} must be a finite number of milliseconds > 0${zeroAllowed ? ' (or 0)' : ''}, got ${v}`)
}
