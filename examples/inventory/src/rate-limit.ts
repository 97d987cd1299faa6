// Requests per client address: a token bucket per address (`burst` tokens,
// refilled at `perSecond`), at most `maxKeys` addresses, the least recently
// seen forgotten first. Time is passed in (the actor system's clock).

export class AddressRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; lastMs: number }>()

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly maxKeys: number,
  ) {
    if (!(burst >= 1 && perSecond > 0 && maxKeys >= 1)) throw new RangeError('a rate limiter needs burst >= 1, perSecond > 0 and maxKeys >= 1')
  }

  /** Takes a token for `key`; 0 if it had one, else the milliseconds until it will. */
  take(key: string, nowMs: number): number {
    let b = this.buckets.get(key)
    if (b !== undefined) this.buckets.delete(key) // re-inserted below: Map order is recency order
    else {
      b = { tokens: this.burst, lastMs: nowMs }
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!)
    }
    this.buckets.set(key, b)
    // A clock that steps back gives no tokens rather than negative ones.
    b.tokens = Math.min(this.burst, b.tokens + (Math.max(0, nowMs - b.lastMs) / 1000) * this.perSecond)
    b.lastMs = Math.max(b.lastMs, nowMs)
    if (b.tokens >= 1) {
      b.tokens -= 1
      return 0
    }
    return Math.ceil(((1 - b.tokens) / this.perSecond) * 1000)
  }
}
