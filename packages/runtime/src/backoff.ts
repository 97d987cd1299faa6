// One backoff policy for everything that waits before trying again
// (supervised restarts, redials, lease and saga retries). The random source
// is passed in, so a simulation drives the jitter from its seed.

export interface BackoffPolicy {
  /** The delay before the first retry, in ms (before jitter). */
  readonly minMs: number
  /** No delay is longer than this, in ms. */
  readonly maxMs: number
  /** Growth per attempt (default 2). */
  readonly factor?: number
  /** The exponent stops growing here (default: no limit; the delay is capped by maxMs anyway). */
  readonly maxExponent?: number
  /**
   * How the delay is spread, so that many retriers do not strike together:
   * `'none'` (exactly the capped delay; takes no random number), `'equal'`
   * (uniform in [delay/2, delay)), or `{ spread }` (uniform in
   * [delay, delay * (1 + spread)), still capped at maxMs).
   */
  readonly jitter?: 'none' | 'equal' | { readonly spread: number }
}

/**
 * The delay before retry number `attempt` (0-based): `minMs * factor^attempt`
 * capped at `maxMs`, then jittered as the policy says. Calls `random` at most once.
 */
export function backoffDelayMs(policy: BackoffPolicy, attempt: number, random: () => number): number {
  const exponent = Math.min(attempt, policy.maxExponent ?? Infinity)
  const capped = Math.min(policy.maxMs, policy.minMs * (policy.factor ?? 2) ** exponent)
  const jitter = policy.jitter ?? 'none'
  if (jitter === 'none') return capped
  if (jitter === 'equal') return capped / 2 + random() * (capped / 2)
  return Math.min(policy.maxMs, capped + capped * jitter.spread * random())
}
