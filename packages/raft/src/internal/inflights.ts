import { invariant } from './errors.js'

/**
 * Sliding window of append messages (or snapshot chunks) in flight to one
 * follower, limited by count and by payload bytes. Each message is keyed by
 * its last index (or, for snapshot chunks, its end offset); keys only grow.
 */
export class Inflights {
  private readonly keys: number[] = []
  private readonly sizes: number[] = []
  private head = 0
  private bytesInFlight = 0

  constructor(
    readonly maxCount: number,
    /** 0 = no byte limit. */
    readonly maxBytes: number,
  ) {}

  get count(): number {
    return this.keys.length - this.head
  }

  get bytes(): number {
    return this.bytesInFlight
  }

  /** Full: no more messages may be sent until some are acknowledged. */
  full(): boolean {
    return this.count >= this.maxCount || (this.maxBytes > 0 && this.bytesInFlight >= this.maxBytes)
  }

  add(key: number, bytes: number): void {
    invariant(!this.full(), 'cannot add to full inflights')
    const last = this.count > 0 ? this.keys[this.keys.length - 1]! : -1
    invariant(key > last, `inflight keys must grow: ${key} after ${last}`)
    this.keys.push(key)
    this.sizes.push(bytes)
    this.bytesInFlight += bytes
  }

  /** Frees every message whose key is <= `key` (they were acknowledged). */
  freeLE(key: number): void {
    while (this.head < this.keys.length && this.keys[this.head]! <= key) {
      this.bytesInFlight -= this.sizes[this.head]!
      this.head++
    }
    // Compact occasionally so the arrays do not grow without bound.
    if (this.head > 64 && this.head * 2 > this.keys.length) {
      this.keys.splice(0, this.head)
      this.sizes.splice(0, this.head)
      this.head = 0
    }
  }

  reset(): void {
    this.keys.length = 0
    this.sizes.length = 0
    this.head = 0
    this.bytesInFlight = 0
  }
}
