import type { ActorContext } from '../context.js'
import type { ActorDef } from '../define.js'
import { TroupeError } from '../errors.js'
import type { Signal } from '../signals.js'
import type { ActorSystem } from '../system.js'
import { ActivationPermits, PermitLost, PermitOutcome } from './activation-permits.js'
import { Handoff } from './handoff.js'
import { LocalEntities } from './local-entities.js'
import type { MembershipView } from './membership-view.js'
import { Passivation } from './passivation.js'
import { RegionBuffer } from './region-buffer.js'
import { RegionContext } from './region-context.js'
import type { RegionConfig } from './region-context.js'
import { RegionPeers } from './region-peers.js'
import { REGION_PATH } from './region-protocol.js'
import { shardCounts } from './region-stats.js'
import type { RegionStats } from './region-stats.js'
import { Bounced, ShardRouter } from './shard-router.js'

export type { RegionConfig } from './region-context.js'
export type { RegionStats } from './region-stats.js'

/** Asks the region to resolve `done` once this node hosts no shard; only this class is accepted (a wire payload never is one). */
export class HandedOffWaiter {
  constructor(readonly done: () => void) {}
}

/**
 * The shard region of one node (/system/sharding): the actor that routes
 * every message for an entity. This file is its turn loop; the parts are
 * the router and its bounded buffer (shard-router.ts, region-buffer.ts), the
 * peers' statuses (region-peers.ts), handoff (handoff.ts), the entity
 * children (local-entities.ts), passivation (passivation.ts) and activation
 * permits (activation-permits.ts). The state machine per shard is in
 * local-shard.ts; the guarantees in the package README (Entities).
 */
export class ShardRegion {
  private readonly rc: RegionContext
  private readonly buffer: RegionBuffer
  private readonly peers: RegionPeers
  private readonly passivation: Passivation
  private readonly entities: LocalEntities
  private readonly permits: ActivationPermits
  private readonly router: ShardRouter
  private readonly handoff: Handoff
  /** Waiting for this node to host no shard (sharding.whenHandedOff). */
  private handedOffWaiters: Array<() => void> = []

  constructor(system: ActorSystem, view: MembershipView, kinds: ReadonlyMap<string, ActorDef<any, any>>, config: RegionConfig) {
    const rc = new RegionContext(system, view, kinds, config)
    this.rc = rc
    this.buffer = new RegionBuffer(rc)
    this.peers = new RegionPeers(rc)
    this.passivation = new Passivation(config.passivateAfterMs)
    this.entities = new LocalEntities(rc, this.passivation)
    this.permits = new ActivationPermits(rc, this.entities)
    this.router = new ShardRouter(rc, this.peers, this.buffer, this.entities, this.permits)
    this.handoff = new Handoff(rc, this.peers, this.buffer, this.entities, this.permits, this.router)
  }

  // ---- actor entry points ----------------------------------------------

  start(ctx: ActorContext<any>): void {
    this.rc.ctx = ctx
    ctx.timers.startPeriodic('tick', this.rc.config.tickMs, 'tick', undefined)
    this.onViewChanged()
    this.afterTurn()
  }

  receive(type: string, payload: unknown, ctx: ActorContext<any>): void {
    switch (type) {
      case 'route':
        this.router.onRoute(payload, ctx)
        break
      case 'status':
        if (this.peers.onStatus(payload)) this.reevaluate()
        break
      case 'released':
        if (this.peers.onReleased(payload)) this.reevaluate()
        break
      case 'view-changed':
        this.onViewChanged()
        break
      case 'tick':
        this.onTick()
        break
      case 'permit':
        if (payload instanceof PermitOutcome) this.onPermit(payload)
        else this.rc.system.deadLetter(REGION_PATH, type, payload, 'unknown-message')
        break
      case 'bounced':
        if (payload instanceof Bounced) this.router.onBounced(payload)
        else this.rc.system.deadLetter(REGION_PATH, type, payload, 'unknown-message')
        break
      case 'when-handed-off':
        if (payload instanceof HandedOffWaiter) this.handedOffWaiters.push(payload.done)
        else this.rc.system.deadLetter(REGION_PATH, type, payload, 'unknown-message')
        break
      case 'permit-lost':
        if (payload instanceof PermitLost) this.permits.onPermitLost(payload.entry)
        else this.rc.system.deadLetter(REGION_PATH, type, payload, 'unknown-message')
        break
      default:
        this.rc.system.deadLetter(REGION_PATH, type, payload, 'unknown-message')
    }
    this.afterTurn()
  }

  signal(signal: Signal): void {
    this.onEntityStopped(signal)
    this.afterTurn()
  }

  /** The region is stopping: its entities are gone; what it still holds becomes dead letters. */
  stop(): void {
    // The entities (children) have stopped by now: their permits can go.
    this.entities.releaseAll()
    this.permits.close()
    const held = [...this.buffer.parked, ...this.handoff.takeRedispatch()]
    for (const shard of this.rc.shards.values()) held.push(...shard.buffer)
    this.buffer.parked = []
    this.rc.shards.clear()
    this.buffer.count = 0
    const self = this.rc.self
    for (const m of held) this.buffer.drop(m, 'stopped', new TroupeError('ACTOR_STOPPED', `sharding on ${self} stopped before delivering '${m.type}' to ${m.kind}/${m.id}`))
    // Nothing is hosted here any more.
    this.resolveHandedOff()
  }

  stats(): RegionStats {
    return {
      node: this.rc.self,
      members: this.peers.members,
      ...shardCounts(this.rc.shards.values()),
      buffered: this.buffer.count,
      activations: this.entities.activations,
      passivations: this.entities.passivations,
      handoffs: this.handoff.handoffs,
      forwarded: this.router.forwarded,
      acquiring: this.permits.size,
      permitsLost: this.permits.permitsLost,
      permitFailures: this.permits.permitFailures,
    }
  }

  // ---- what a turn does -----------------------------------------------------

  private onViewChanged(): void {
    if (!this.peers.applyView()) return
    const orphaned = this.handoff.onViewChanged()
    this.peers.forgetStrangers()
    // The status goes out before anything routed under the new view: it is also the marker
    // after which no message of this node follows an old route.
    this.peers.broadcastStatus()
    this.buffer.count -= orphaned.length
    for (const m of orphaned) this.router.dispatch(m)
    this.reevaluate()
  }

  private onTick(): void {
    const now = this.rc.now()
    this.peers.expireDeparted(now)
    for (const entry of this.passivation.due(now)) this.entities.stop(entry, 'passivate')
    this.handoff.stopOverdue(now)
    this.permits.retry(now)
    this.reevaluate()
    this.peers.pokePeers()
  }

  private onPermit(outcome: PermitOutcome): void {
    const granted = this.permits.onPermit(outcome)
    if (granted !== null) this.router.deliverGranted(granted)
  }

  private onEntityStopped(signal: Signal): void {
    const stopped = this.entities.onStopped(signal.ref)
    if (stopped === null) return
    if (stopped.shard.phase === 'stopping') return this.handoff.onEntityStopped(stopped.shard)
    // Messages that arrived while it passivated (or after it stopped itself) start a new incarnation.
    this.router.redeliver(stopped.shard, stopped.entry.key)
  }

  /** Moves shards forward, then gives the parked messages another try. */
  private reevaluate(): void {
    this.handoff.advance()
    this.router.retryParked()
  }

  /** Work deferred to the end of a turn: one 'released' per turn, then what the released shards held. */
  private afterTurn(): void {
    this.handoff.afterTurn()
    if (this.handedOffWaiters.length > 0 && this.handedOff()) this.resolveHandedOff()
  }

  /**
   * This node is out of its own view and hosts no shard: every shard it had
   * was released (its entities stopped, its buffer forwarded to the new owner).
   */
  private handedOff(): boolean {
    return !this.peers.members.includes(this.rc.self) && this.rc.shards.size === 0
  }

  private resolveHandedOff(): void {
    const waiters = this.handedOffWaiters
    this.handedOffWaiters = []
    for (const done of waiters) done()
  }
}
