import type { ExpireItem } from './commands.js'
import { entryKey } from './name-state.js'
import type { EntryView } from './lease-table.js'

interface Seen {
  renewedIndex: number
  /** This node's clock when it first saw this renewal (or took over). */
  atMs: number
}

/**
 * The leader's judgment of expiry, as plain code: it remembers, by this
 * node's clock, when it first saw each entry's current renewal, and names
 * the entries whose TTL has passed since. A new term starts from nothing,
 * so every entry gets a full TTL from the moment this leader first looks:
 * never less than the holder was promised, whatever the old leader's clock
 * said. Seeing a renewal late (the next round, a lagging apply) only makes
 * the judgment later, never earlier.
 */
export class ExpiryJudge {
  private term: number | null = null
  private seen = new Map<string, Seen>()

  /** Not leading any more: forget every observation. */
  reset(): void {
    this.term = null
    this.seen.clear()
  }

  /** Entries observed in the current term. */
  get tracked(): number {
    return this.seen.size
  }

  /**
   * Leading `term` at local time `nowMs` with the table's `entries`: the
   * entries due for expiry, longest overdue first, at most `max`.
   */
  judge(term: number, nowMs: number, entries: Iterable<EntryView>, max: number): ExpireItem[] {
    if (term !== this.term) {
      this.seen.clear()
      this.term = term
    }
    const next = new Map<string, Seen>()
    const due: Array<{ item: ExpireItem; overdueMs: number }> = []
    for (const e of entries) {
      const key = entryKey(e.clientId, e.requestId)
      let seen = this.seen.get(key)
      if (seen === undefined || seen.renewedIndex !== e.renewedIndex) seen = { renewedIndex: e.renewedIndex, atMs: nowMs }
      next.set(key, seen)
      const overdueMs = nowMs - seen.atMs - e.ttlMs
      if (overdueMs >= 0) due.push({ item: { name: e.name, clientId: e.clientId, requestId: e.requestId, renewedIndex: e.renewedIndex }, overdueMs })
    }
    this.seen = next
    due.sort((a, b) => b.overdueMs - a.overdueMs)
    return due.slice(0, max).map((d) => d.item)
  }
}
