import type { LeaseMode } from './commands.js'

/** One acquire attempt in the table: waiting in the queue or holding. */
export interface Entry {
  clientId: string
  requestId: number
  mode: LeaseMode
  ttlMs: number
  inbox: string | null
  value: string | null
  /** 0 while waiting; once held, the log index of the command that granted it. */
  token: number
  /** Log index of the command that created, granted or last renewed the entry: an expiry judged before it is void. */
  renewedIndex: number
}

export function entryKey(clientId: string, requestId: number): string {
  return `${clientId}\u0000${requestId}`
}

/**
 * Holders and the FIFO wait queue of one name. Maps keep insertion order,
 * so the first waiter is the head and removal from the middle is O(1).
 * Invariant: holders are one exclusive entry, or any number of shared ones.
 */
export class NameState {
  readonly holders = new Map<string, Entry>()
  readonly waiters = new Map<string, Entry>()
  /** Highest token granted for this name. */
  lastToken = 0
  /** Log index of the last change of holders. */
  revision = 0

  get idle(): boolean {
    return this.holders.size === 0 && this.waiters.size === 0
  }

  /** Whether an entry of `mode` may hold alongside the current holders. */
  compatible(mode: LeaseMode): boolean {
    if (this.holders.size === 0) return true
    if (mode === 'exclusive') return false
    for (const h of this.holders.values()) return h.mode === 'shared'
    return true
  }

  /** Granting at once is allowed only with nobody queued: an exclusive waiter blocks new shared holders. */
  grantableNow(mode: LeaseMode): boolean {
    return this.waiters.size === 0 && this.compatible(mode)
  }

  /** Makes `entry` a holder at log index `index`. */
  grant(entry: Entry, index: number): void {
    entry.token = index
    entry.renewedIndex = index
    this.holders.set(entryKey(entry.clientId, entry.requestId), entry)
    this.lastToken = index
    this.revision = index
  }

  /**
   * Grants waiters from the head while they are compatible, and stops at the
   * first that is not: only those that can hold are woken, never the herd.
   */
  promote(index: number): Entry[] {
    const granted: Entry[] = []
    for (const [key, head] of this.waiters) {
      if (!this.compatible(head.mode)) break
      this.waiters.delete(key)
      this.grant(head, index)
      granted.push(head)
    }
    return granted
  }

  /** Zero-based place of a waiter in the queue, or -1. */
  position(key: string): number {
    let i = 0
    for (const k of this.waiters.keys()) {
      if (k === key) return i
      i++
    }
    return -1
  }
}
