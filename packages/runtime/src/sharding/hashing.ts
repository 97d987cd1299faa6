import { fnv1a32Fmix } from '../hash.js'

/**
 * The shard (0 ≤ shard < shards) an entity id belongs to: the same on every
 * node and every run (the hash is in ../hash.ts; shard → node is allocation.ts).
 */
export function shardOf(id: string, shards: number): number {
  return fnv1a32Fmix(id) % shards
}
