import type { ActivationPermits } from './activation-permits.js'
import type { LocalEntities } from './local-entities.js'
import type { Buffered, LocalShard } from './local-shard.js'
import type { RegionBuffer } from './region-buffer.js'
import type { RegionContext } from './region-context.js'
import type { RegionPeers } from './region-peers.js'
import type { ShardRouter } from './shard-router.js'

/**
 * Shards moving between nodes (phases in local-shard.ts): a shard this node
 * comes to own waits until no peer claims it; one it no longer owns drains
 * until no peer routes to it (or handoffTimeoutMs), then its entities stop
 * after the messages they hold, and it is released: peers hear of it at the
 * end of the turn, and what it buffered is routed to the new owner.
 */
export class Handoff {
  /** Shards this node released to a new owner. */
  handoffs = 0
  /** Released this turn; one 'released' message goes out at the end of it. */
  private released: number[] = []
  /** What released shards held, routed again at the end of the turn. */
  private redispatch: Buffered[] = []

  constructor(
    private readonly rc: RegionContext,
    private readonly peers: RegionPeers,
    private readonly buffer: RegionBuffer,
    private readonly entities: LocalEntities,
    private readonly permits: ActivationPermits,
    private readonly router: ShardRouter,
  ) {}

  /**
   * The view changed: a waiting shard no longer owned is dropped (its
   * messages are returned, still counted in the buffer), an active one no
   * longer owned drains, a draining one owned again is active.
   */
  onViewChanged(): Buffered[] {
    const rc = this.rc
    const orphaned: Buffered[] = []
    for (const [s, shard] of rc.shards) {
      const mine = this.peers.table?.ownerOf(s) === rc.self
      if (shard.phase === 'waiting' && !mine) {
        rc.shards.delete(s)
        orphaned.push(...shard.buffer)
      } else if (shard.phase === 'active' && !mine) {
        shard.phase = 'draining'
        shard.sinceMs = rc.now()
      } else if (shard.phase === 'draining' && mine) {
        shard.phase = 'active'
      }
    }
    return orphaned
  }

  /** Moves shards forward after anything that may unblock them. */
  advance(): void {
    const rc = this.rc
    const now = rc.now()
    for (const shard of rc.shards.values()) {
      if (shard.phase === 'waiting') {
        if (this.peers.canActivate(shard.id)) this.activate(shard)
      } else if (shard.phase === 'draining') {
        if (this.peers.noPeerRoutesHere(shard.id) || now - shard.sinceMs >= rc.config.handoffTimeoutMs) this.beginStopping(shard)
      }
    }
  }

  /** An entity of a stopping shard has stopped. */
  onEntityStopped(shard: LocalShard): void {
    if (shard.entities.size === 0) this.release(shard)
  }

  /** An entity that does not get through its mailbox in time is stopped after its current message. */
  stopOverdue(nowMs: number): void {
    for (const shard of this.rc.shards.values()) {
      if (shard.phase !== 'stopping' || nowMs - shard.sinceMs < this.rc.config.handoffTimeoutMs) continue
      for (const entry of shard.entities.values()) {
        if (entry.stopping === 'forced') continue
        this.entities.forceStop(entry)
      }
    }
  }

  /** End of a turn: one 'released' for the shards released in it, then what they held is routed again. */
  afterTurn(): void {
    if (this.released.length > 0) {
      const released = this.released
      this.released = []
      this.peers.broadcastReleased(released)
    }
    if (this.redispatch.length > 0) {
      const pending = this.redispatch
      this.redispatch = []
      for (const m of pending) this.router.dispatch(m)
    }
  }

  /** The region stops: the messages waiting to be routed again. */
  takeRedispatch(): Buffered[] {
    const pending = this.redispatch
    this.redispatch = []
    return pending
  }

  private activate(shard: LocalShard): void {
    shard.phase = 'active'
    for (const m of this.buffer.takeAll(shard)) this.router.toLocal(shard, m)
  }

  private beginStopping(shard: LocalShard): void {
    shard.phase = 'stopping'
    shard.sinceMs = this.rc.now()
    this.permits.abortFor(shard.id)
    for (const entry of shard.entities.values()) {
      if (entry.stopping !== null) continue
      this.entities.stop(entry, 'handoff')
    }
    if (shard.entities.size === 0) this.release(shard)
  }

  private release(shard: LocalShard): void {
    this.rc.shards.delete(shard.id)
    this.handoffs++
    this.released.push(shard.id)
    this.buffer.count -= shard.buffer.length
    for (const m of shard.buffer) this.redispatch.push(m)
  }
}
