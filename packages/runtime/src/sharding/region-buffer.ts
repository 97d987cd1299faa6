import { TroupeError } from '../errors.js'
import { entityPath } from './entity-ref.js'
import type { Buffered, LocalShard } from './local-shard.js'
import type { RegionContext } from './region-context.js'

/**
 * The messages a region holds instead of delivering or forwarding them: in
 * a shard's buffer (the shard waits, moves, or an entity stops or waits for
 * its permit) or parked (no owner yet, bounced MAX_HOPS times, or routed here
 * while this node joins). One bound, maxBufferedMessages, covers them all; a
 * message over it is dead-lettered and its asker gets SHARD_BUFFER_FULL.
 */
export class RegionBuffer {
  /** Messages with nowhere to go yet; retried on any change. */
  parked: Buffered[] = []
  /** Messages held in the shards' buffers and parked. */
  count = 0

  constructor(private readonly rc: RegionContext) {}

  hold(buffer: Buffered[], m: Buffered): void {
    const max = this.rc.config.maxBufferedMessages
    if (this.count >= max) {
      const error = new TroupeError('SHARD_BUFFER_FULL', `sharding buffer of ${this.rc.self} is full (${max} messages); '${m.type}' to ${m.kind}/${m.id} dropped`)
      return this.drop(m, 'shard-buffer-full', error)
    }
    buffer.push(m)
    this.count++
  }

  /** Dead-letters a message (and rejects its asker with `error`, if any). */
  drop(m: Buffered, reason: string, error: Error | null): void {
    this.rc.system.deadLetter(entityPath(m.kind, m.id), m.type, m.payload, reason)
    if (error !== null) m.reply?.reject(error)
  }

  /** Takes one entity's messages out of its shard's buffer, in order. */
  takeFor(shard: LocalShard, key: string): Buffered[] {
    const mine = shard.takeFor(key)
    this.count -= mine.length
    return mine
  }

  /** Takes a shard's whole buffer out, in order. */
  takeAll(shard: LocalShard): Buffered[] {
    const held = shard.buffer
    shard.buffer = []
    this.count -= held.length
    return held
  }

  /** Takes the parked messages out, in order. */
  takeParked(): Buffered[] {
    const parked = this.parked
    this.parked = []
    this.count -= parked.length
    return parked
  }
}
