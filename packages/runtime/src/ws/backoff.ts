/**
 * Capped exponential backoff with jitter for redialing a peer. The n-th
 * consecutive failure waits a random time in [d/2, d), d = min(maxMs,
 * minMs · 2^n): the cap bounds the wait, the jitter keeps nodes that lost a
 * peer together from redialing in lockstep. Randomness is injected.
 */
export class Backoff {
  private failures = 0

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number,
  ) {}

  /** The wait before the next attempt; each call counts one more failure. */
  nextDelayMs(): number {
    const ceiling = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.failures, 30))
    this.failures++
    return ceiling / 2 + this.random() * (ceiling / 2)
  }

  /** A connection succeeded: the next failure starts from minMs again. */
  reset(): void {
    this.failures = 0
  }

  get consecutiveFailures(): number {
    return this.failures
  }
}
