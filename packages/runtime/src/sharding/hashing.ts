/**
 * Stable 32-bit hashes: the same string gives the same number on every node
 * and every run (entity → shard, and the rendezvous scores of shard → node).
 */

/** MurmurHash3's finalizer: a bijection on 32-bit values with full avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** FNV-1a over UTF-16 code units, finalized with fmix32. */
export function hashString(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return fmix32(h)
}

/** The shard (0 ≤ shard < shards) an entity id belongs to. */
export function shardOf(id: string, shards: number): number {
  return hashString(id) % shards
}
