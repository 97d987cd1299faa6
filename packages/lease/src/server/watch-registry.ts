/** One client's interest in one name, on one member. */
export interface Subscription {
  readonly inbox: string
  readonly subId: number
  readonly name: string
  /** Events sent so far (the registration's read is seq 0). */
  seq: number
  /** This member's clock when the client last said it still wants it (or registered). */
  wantedAtMs: number
}

export interface WatchLimits {
  /** Subscriptions per name on this member. */
  maxWatchersPerName: number
  /** Subscriptions on this member. */
  maxWatchers: number
  /** Subscriptions of one client inbox on this member. */
  maxWatchersPerInbox: number
}

/**
 * The watchers a lease service pushes to: by name (to push a change), by
 * inbox (to send one beat per client), bounded on every axis. Plain data:
 * the service does the sending and the timing.
 */
export class WatchRegistry {
  private readonly byKey = new Map<string, Subscription>()
  private readonly byName = new Map<string, Set<Subscription>>()
  private readonly byInbox = new Map<string, Map<number, Subscription>>()

  constructor(private readonly limits: WatchLimits) {}

  get size(): number {
    return this.byKey.size
  }

  /** Registers (or, for a retried read, restarts) a subscription; false when a limit is reached. */
  add(name: string, inbox: string, subId: number, nowMs: number): boolean {
    const key = subKey(inbox, subId)
    const old = this.byKey.get(key)
    if (old !== undefined) this.remove(old)
    const perName = this.byName.get(name)?.size ?? 0
    const perInbox = this.byInbox.get(inbox)?.size ?? 0
    if (this.byKey.size >= this.limits.maxWatchers || perName >= this.limits.maxWatchersPerName || perInbox >= this.limits.maxWatchersPerInbox) return false
    const sub: Subscription = { inbox, subId, name, seq: 0, wantedAtMs: nowMs }
    this.byKey.set(key, sub)
    let named = this.byName.get(name)
    if (named === undefined) this.byName.set(name, (named = new Set()))
    named.add(sub)
    let mine = this.byInbox.get(inbox)
    if (mine === undefined) this.byInbox.set(inbox, (mine = new Map()))
    mine.set(subId, sub)
    return true
  }

  /** The subscriptions of `name` (empty if none). */
  of(name: string): ReadonlySet<Subscription> {
    return this.byName.get(name) ?? EMPTY
  }

  /** Every subscribed name. */
  names(): IterableIterator<string> {
    return this.byName.keys()
  }

  /** Subscriptions grouped by inbox, for the beats. */
  inboxes(): IterableIterator<[string, ReadonlyMap<number, Subscription>]> {
    return this.byInbox.entries()
  }

  /** The client answered a beat: it still wants `keep` and no longer wants `drop`. */
  ack(inbox: string, keep: readonly number[], drop: readonly number[], nowMs: number): void {
    const mine = this.byInbox.get(inbox)
    if (mine === undefined) return
    for (const id of keep) {
      const sub = mine.get(id)
      if (sub !== undefined) sub.wantedAtMs = nowMs
    }
    for (const id of drop) {
      const sub = mine.get(id)
      if (sub !== undefined) this.remove(sub)
    }
  }

  /** Drops subscriptions nobody said they wanted since `beforeMs`; returns how many. */
  expire(beforeMs: number): number {
    let dropped = 0
    for (const sub of [...this.byKey.values()]) {
      if (sub.wantedAtMs < beforeMs) {
        this.remove(sub)
        dropped++
      }
    }
    return dropped
  }

  clear(): void {
    this.byKey.clear()
    this.byName.clear()
    this.byInbox.clear()
  }

  private remove(sub: Subscription): void {
    this.byKey.delete(subKey(sub.inbox, sub.subId))
    const named = this.byName.get(sub.name)
    named?.delete(sub)
    if (named?.size === 0) this.byName.delete(sub.name)
    const mine = this.byInbox.get(sub.inbox)
    mine?.delete(sub.subId)
    if (mine?.size === 0) this.byInbox.delete(sub.inbox)
  }
}

const EMPTY: ReadonlySet<Subscription> = new Set()

function subKey(inbox: string, subId: number): string {
  return `${inbox}\u0000${subId}`
}
