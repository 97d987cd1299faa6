/**
 * Versions of the wire protocol (handshake, remoting envelopes, gossip), one
 * number for all three. A node speaks a range of versions; two nodes speak
 * the highest version both speak, `min(maxA, maxB)`, when that is at or above
 * both minimums, and refuse each other otherwise.
 *
 * Version 1 was the first protocol (exact match only). Version 2 is the first
 * that negotiates: from it on, a message's known fields keep their places and
 * a newer version only appends fields (which older nodes ignore) or adds
 * message kinds (which older nodes reject and log, keeping the connection).
 * Version 3 is spoken only by a test build (`wire: { experimental: 'next' }`):
 * it exists to prove that nodes of two adjacent versions interoperate.
 */
export interface VersionRange {
  /** The oldest version this node still speaks. */
  readonly min: number
  /** The newest version this node speaks. */
  readonly max: number
}

/** The oldest version a node of this build can speak. */
export const WIRE_VERSION_MIN = 2
/** The version this build speaks (the top of its default range). */
export const WIRE_VERSION = 2
/** The next version: only the experimental test build speaks it. */
export const WIRE_VERSION_NEXT = 3

/** What a node of this build speaks unless configured otherwise. */
export const DEFAULT_VERSIONS: VersionRange = Object.freeze({ min: WIRE_VERSION_MIN, max: WIRE_VERSION })

/** The version two nodes speak, or null when their ranges do not overlap. */
export function negotiateVersion(a: VersionRange, b: VersionRange): number | null {
  const v = Math.min(a.max, b.max)
  return v >= a.min && v >= b.min ? v : null
}

export function formatRange(r: VersionRange): string {
  return r.min === r.max ? `${r.min}` : `${r.min}..${r.max}`
}

export function sameRange(a: VersionRange, b: VersionRange): boolean {
  return a.min === b.min && a.max === b.max
}

/** A well-formed range: integers, 1 <= min <= max. */
export function isVersionRange(min: unknown, max: unknown): boolean {
  return Number.isSafeInteger(min) && Number.isSafeInteger(max) && (min as number) >= 1 && (min as number) <= (max as number)
}
