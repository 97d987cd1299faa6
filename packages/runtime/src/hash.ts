// Small non-cryptographic hashes, stable across processes, platforms and
// Node versions (32-bit integer arithmetic only; no seeds, no platform
// hashing). Every hash in Troupe is one of these. Their outputs are part of
// the contract: they place entities on shards and shards on nodes, order the
// monitoring ring, digest gossip, pick a Raft group's first candidate and
// fingerprint simulation traces. Changing one moves data; pin new ones in
// test/hash.test.ts. This module imports nothing (`@troupe/runtime/hash`).

/** FNV-1a's 32-bit offset basis. */
export const FNV1A_OFFSET = 0x811c9dc5
/** FNV-1a's 32-bit prime. */
export const FNV1A_PRIME = 0x01000193

/**
 * Continues an FNV-1a state `h` over the UTF-16 code units of `s`; returns
 * the new state as an unsigned 32-bit integer. `fnv1aUpdate(FNV1A_OFFSET, s)`
 * is `fnv1a32(s)`; other offsets give independent lanes.
 */
export function fnv1aUpdate(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV1A_PRIME)
  return h >>> 0
}

/** Continues an FNV-1a state over one more unit (a byte or a UTF-16 code unit). */
export function fnv1aUnit(h: number, unit: number): number {
  return Math.imul(h ^ unit, FNV1A_PRIME) >>> 0
}

/** 32-bit FNV-1a over UTF-16 code units (the monitoring ring's order, Raft's first candidate). */
export function fnv1a32(s: string): number {
  return fnv1aUpdate(FNV1A_OFFSET, s)
}

/** 32-bit FNV-1a over bytes (fingerprints of frames). */
export function fnv1a32Bytes(bytes: Uint8Array): number {
  let h = FNV1A_OFFSET
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, FNV1A_PRIME)
  return h >>> 0
}

/** MurmurHash3's finalizer: a bijection on 32-bit values with full avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * 32-bit FNV-1a over UTF-16 code units, finalized with fmix32 so every bit
 * of the input reaches every bit of the output (entity id → shard, the
 * rendezvous scores of shard → node, the simulation's stream labels).
 */
export function fnv1a32Fmix(s: string): number {
  return fmix32(fnv1a32(s))
}

/** 53-bit hash (cyrb53): safe as a JavaScript number, so it travels as a CBOR integer (gossip digests). */
export function cyrb53(s: string): number {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return 4294967296 * (2097151 & h2) + (h1 >>> 0)
}
