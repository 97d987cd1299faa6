import type { LocalShard } from './local-shard.js'

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

/** The shard and entity counts of a region's stats. */
export function shardCounts(shards: Iterable<LocalShard>): Pick<RegionStats, 'shardsActive' | 'shardsWaiting' | 'shardsHandingOff' | 'entities'> {
  let active = 0
  let waiting = 0
  let handingOff = 0
  let entities = 0
  for (const s of shards) {
    if (s.phase === 'active') active++
    else if (s.phase === 'waiting') waiting++
    else handingOff++
    entities += s.entities.size
  }
  return { shardsActive: active, shardsWaiting: waiting, shardsHandingOff: handingOff, entities }
}
