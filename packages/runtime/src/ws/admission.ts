/**
 * Admission of strangers: every inbound connection that has not yet proved
 * the cluster secret (a raw socket before its WebSocket upgrade, then the
 * upgraded WebSocket in the handshake) holds one place here, from accept
 * until it is authenticated or gone.
 *
 * Bounds: at most `maxPending` places in total and `maxPendingPerAddress`
 * per source address, each held at most `deadlineMs` from accept. A new
 * connection is never refused: when a bound is full, the oldest pending
 * connection is dropped to make room, taken from the new one's own address
 * when that address is at its bound, else from the address holding the most
 * places. A flood therefore evicts its own connections, while a node that
 * holds the secret, arriving from another address, gets a place and keeps it
 * for the few round trips its handshake takes.
 *
 * Pure: no sockets and no timers. The caller asks `nextDeadlineMs()` when to
 * call `expire()`, and drops what `admit` and `expire` hand back. An item is
 * one connection through both phases (the caller's record of it), so a
 * socket keeps its place, age and deadline when it is upgraded.
 */
export interface AdmissionLimits {
  /** Pending connections in total. Invariant: maxPendingPerAddress <= maxPending. */
  maxPending: number
  /** Pending connections from one source address. */
  maxPendingPerAddress: number
  /** Time from accept to authentication, in ms, after which a pending connection is expired. */
  deadlineMs: number
}

interface Place {
  readonly address: string
  readonly deadlineMs: number
  /** Accept order: a smaller number is older. */
  readonly seq: number
}

export class Admission<T> {
  /** Every pending item; Map order is accept order, so the first is the oldest (and the first to expire). */
  private readonly places = new Map<T, Place>()
  /** Per source address, its pending items in accept order. Invariant: no empty set is kept. */
  private readonly byAddress = new Map<string, Set<T>>()
  private seq = 0

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly clock: { now(): number },
  ) {
    if (!(limits.maxPendingPerAddress >= 1 && limits.maxPending >= limits.maxPendingPerAddress && limits.deadlineMs > 0)) {
      throw new RangeError(`admission limits out of range: ${JSON.stringify(limits)}`)
    }
  }

  get size(): number {
    return this.places.size
  }

  /** Pending items from `address`. */
  pendingFrom(address: string): number {
    return this.byAddress.get(address)?.size ?? 0
  }

  has(item: T): boolean {
    return this.places.has(item)
  }

  /**
   * Gives `item` a place; returns the items evicted to make room (already
   * forgotten here: the caller closes them). Never refuses.
   */
  admit(item: T, address: string): T[] {
    if (this.places.has(item)) return []
    const evicted: T[] = []
    const own = this.byAddress.get(address)
    if (own !== undefined && own.size >= this.limits.maxPendingPerAddress) evicted.push(this.evictOldestOf(own))
    else if (this.places.size >= this.limits.maxPending) evicted.push(this.evictOldestOf(this.busiestAddress()))
    this.places.set(item, { address, deadlineMs: this.clock.now() + this.limits.deadlineMs, seq: this.seq++ })
    let set = this.byAddress.get(address)
    if (set === undefined) this.byAddress.set(address, (set = new Set()))
    set.add(item)
    return evicted
  }

  /** Forgets `item` (authenticated, or closed); false if it had no place. */
  release(item: T): boolean {
    const place = this.places.get(item)
    if (place === undefined) return false
    this.places.delete(item)
    const set = this.byAddress.get(place.address)!
    set.delete(item)
    if (set.size === 0) this.byAddress.delete(place.address)
    return true
  }

  /** When the oldest pending item expires, or null when none is pending. */
  nextDeadlineMs(): number | null {
    for (const place of this.places.values()) return place.deadlineMs
    return null
  }

  /** Removes and returns every item whose deadline has passed. */
  expire(): T[] {
    const now = this.clock.now()
    const expired: T[] = []
    for (const [item, place] of this.places) {
      if (place.deadlineMs > now) break
      expired.push(item)
    }
    for (const item of expired) this.release(item)
    return expired
  }

  /** Forgets every item and returns them, oldest first. */
  clear(): T[] {
    const all = [...this.places.keys()]
    this.places.clear()
    this.byAddress.clear()
    return all
  }

  private evictOldestOf(set: Set<T>): T {
    const oldest = set.values().next().value as T
    this.release(oldest)
    return oldest
  }

  /** The address holding the most places; among equals, the one whose oldest item is oldest. O(addresses), at most maxPending. */
  private busiestAddress(): Set<T> {
    let busiest: Set<T> | null = null
    let busiestSeq = 0
    for (const set of this.byAddress.values()) {
      const seq = this.places.get(set.values().next().value as T)!.seq
      if (busiest === null || set.size > busiest.size || (set.size === busiest.size && seq < busiestSeq)) {
        busiest = set
        busiestSeq = seq
      }
    }
    return busiest!
  }
}
