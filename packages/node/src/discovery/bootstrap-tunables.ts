import { DiscoveryError } from './discovery-error.js'

export interface BootstrapTunables {
  /** The contact set must be unchanged (over successful lookups) this long before anyone forms (default 5000 ms). */
  readonly stableMarginMs: number
  /** Fewest contacts (this node included) from which a new cluster may form (default 2). */
  readonly requiredContactPoints: number
  /** How often discovery is asked (default 1000 ms). */
  readonly lookupIntervalMs: number
  /** How often each contact is probed (default 1000 ms). */
  readonly probeIntervalMs: number
  /** A probe gives up after this (default 1000 ms). Invariant: < probeFreshMs. */
  readonly probeTimeoutMs: number
  /**
   * To form, every contact's latest answer must come from a probe sent at
   * most this long ago (default 2500 ms). Invariant: stableMarginMs >
   * lookupIntervalMs + probeFreshMs, so a node that formed is seen in a
   * cluster by every fresh probe of anyone whose stable contact set holds it.
   */
  readonly probeFreshMs: number
}

export const DEFAULT_TUNABLES: BootstrapTunables = {
  stableMarginMs: 5000,
  requiredContactPoints: 2,
  lookupIntervalMs: 1000,
  probeIntervalMs: 1000,
  probeTimeoutMs: 1000,
  probeFreshMs: 2500,
}

/** Fills in the defaults and checks the tunables; INVALID_DISCOVERY_CONFIG names the first bad one. */
export function resolveTunables(given: Partial<BootstrapTunables> = {}): BootstrapTunables {
  const t = { ...DEFAULT_TUNABLES, ...definedOnly(given) }
  for (const [name, v] of Object.entries(t)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw invalid(`${name} must be a positive number, got ${String(v)}`)
  }
  if (!Number.isInteger(t.requiredContactPoints)) throw invalid(`requiredContactPoints must be an integer, got ${t.requiredContactPoints}`)
  if (t.probeTimeoutMs >= t.probeFreshMs) throw invalid(`probeTimeoutMs (${t.probeTimeoutMs}) must be below probeFreshMs (${t.probeFreshMs})`)
  if (t.probeIntervalMs + t.probeTimeoutMs > t.probeFreshMs) {
    throw invalid(`probeIntervalMs + probeTimeoutMs (${t.probeIntervalMs + t.probeTimeoutMs}) must not exceed probeFreshMs (${t.probeFreshMs}), or no answer is ever fresh`)
  }
  if (t.stableMarginMs <= t.lookupIntervalMs + t.probeFreshMs) {
    throw invalid(`stableMarginMs (${t.stableMarginMs}) must exceed lookupIntervalMs + probeFreshMs (${t.lookupIntervalMs + t.probeFreshMs}), or two nodes could both form`)
  }
  return t
}

function definedOnly(given: Partial<BootstrapTunables>): Partial<BootstrapTunables> {
  return Object.fromEntries(Object.entries(given).filter(([k, v]) => v !== undefined && k in DEFAULT_TUNABLES))
}

function invalid(msg: string): DiscoveryError {
  return new DiscoveryError('INVALID_DISCOVERY_CONFIG', 'config', msg)
}
