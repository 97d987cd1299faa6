// Token buckets: `burst` tokens at most, refilled at `perSecond`. Time is
// passed in (the actor system's clock), never read here.

export class TokenBucket {
  private tokens: number
  private lastMs: number

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    nowMs: number,
  ) {
    if (!(burst >= 1 && perSecond > 0)) throw new RangeError('a token bucket needs burst >= 1 and perSecond > 0')
    this.tokens = burst
    this.lastMs = nowMs
  }

  /** Takes one token if there is one. */
  take(nowMs: number): boolean {
    this.refill(nowMs)
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Milliseconds until the next token (0 if one is there). */
  waitMs(nowMs: number): number {
    this.refill(nowMs)
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.perSecond) * 1000)
  }

  private refill(nowMs: number): void {
    // A clock that steps back gives no tokens rather than negative ones.
    const elapsedMs = Math.max(0, nowMs - this.lastMs)
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs / 1000) * this.perSecond)
    this.lastMs = Math.max(this.lastMs, nowMs)
  }
}

/** One bucket per key (a user name), at most `maxKeys`, least recently used evicted first. */
export class KeyedLimiter {
  private readonly buckets = new Map<string, TokenBucket>()

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly maxKeys: number,
  ) {}

  take(key: string, nowMs: number): boolean {
    return this.bucket(key, nowMs).take(nowMs)
  }

  waitMs(key: string, nowMs: number): number {
    return this.bucket(key, nowMs).waitMs(nowMs)
  }

  get size(): number {
    return this.buckets.size
  }

  private bucket(key: string, nowMs: number): TokenBucket {
    let b = this.buckets.get(key)
    if (b !== undefined) {
      this.buckets.delete(key) // re-inserted below: Map order is recency order
    } else {
      b = new TokenBucket(this.burst, this.perSecond, nowMs)
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!)
    }
    this.buckets.set(key, b)
    return b
  }
}
