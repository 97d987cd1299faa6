import type { Prng } from '../prng.js'

/** A latency in virtual ms: uniform in [min, max], or drawn by a function. */
export type Latency = { min: number; max: number } | ((rng: Prng) => number)

/** How one directed link (sender → receiver) behaves. */
export interface LinkConfig {
  latencyMs: Latency
  /** Chance that a frame is lost. */
  dropProbability: number
  /** Chance that a frame arrives twice (the copy with its own latency). */
  duplicateProbability: number
  /** Chance that a frame is held back by up to `reorderMaxMs` more, so later frames overtake it. */
  reorderProbability: number
  reorderMaxMs: number
  /** Bytes in flight on the link above which new frames are dropped. */
  maxBytesInFlight: number
  /** Serialisation rate; frames queue behind each other (default Infinity: no limit). */
  bandwidthBytesPerMs: number
}

/** A reliable, fast, FIFO network: what the transport contract promises. */
export const DEFAULT_LINK: LinkConfig = {
  latencyMs: { min: 1, max: 5 },
  dropProbability: 0,
  duplicateProbability: 0,
  reorderProbability: 0,
  reorderMaxMs: 50,
  maxBytesInFlight: 64 * 1024 * 1024,
  bandwidthBytesPerMs: Infinity,
}

export function sampleLatency(latency: Latency, rng: Prng): number {
  const ms = typeof latency === 'function' ? latency(rng) : latency.min + rng.next() * (latency.max - latency.min)
  if (!(ms >= 0 && Number.isFinite(ms))) throw new RangeError(`link latency must be a finite number >= 0, got ${ms}`)
  // Microsecond resolution keeps traces readable and the arithmetic exact enough.
  return Math.round(ms * 1000) / 1000
}

export function checkLinkConfig(config: Partial<LinkConfig>): void {
  for (const key of ['dropProbability', 'duplicateProbability', 'reorderProbability'] as const) {
    const p = config[key]
    if (p !== undefined && !(p >= 0 && p <= 1)) throw new RangeError(`${key} must be in [0, 1], got ${p}`)
  }
  if (config.latencyMs && typeof config.latencyMs !== 'function') {
    const { min, max } = config.latencyMs
    if (!(min >= 0 && max >= min && Number.isFinite(max))) throw new RangeError(`latencyMs needs 0 <= min <= max, got ${min}..${max}`)
  }
  if (config.maxBytesInFlight !== undefined && !(config.maxBytesInFlight > 0)) throw new RangeError('maxBytesInFlight must be > 0')
  if (config.bandwidthBytesPerMs !== undefined && !(config.bandwidthBytesPerMs > 0)) throw new RangeError('bandwidthBytesPerMs must be > 0')
  if (config.reorderMaxMs !== undefined && !(config.reorderMaxMs >= 0 && Number.isFinite(config.reorderMaxMs))) throw new RangeError('reorderMaxMs must be a finite number >= 0')
}
