import type { Entry, Snapshot } from '../storage.js'
import { invariant } from './errors.js'

export const emptyData = new Uint8Array(0)

export function entryBytes(e: Entry): number {
  return e.data.byteLength
}

export function entriesBytes(es: readonly Entry[]): number {
  let n = 0
  for (const e of es) n += e.data.byteLength
  return n
}

/**
 * The uncompacted log in memory, with the positions that matter:
 *
 *   snapshot.index <= applied <= applying <= committed,   stable <= inProgress <= lastIndex
 *
 * `inProgress` is how far entries were handed out in a Ready for persisting,
 * `stable` how far they are known durable (set on advance). A truncation
 * pulls both back, so the leader never counts an overwritten entry as its own.
 */
export class RaftLog {
  /** The latest snapshot: the compaction point. Index 0 with empty data when there is none. */
  snapshot: Snapshot
  /** Entries snapshot.meta.index+1 .. lastIndex, contiguous. */
  private entries: Entry[]
  committed: number
  /** Highest index handed out in a Ready to apply. */
  applying: number
  /** Highest index the application has applied (advanced). */
  applied: number
  stable: number
  inProgress: number
  /** A snapshot received from the leader that the next Ready must persist and restore. */
  unstableSnapshot: Snapshot | null = null

  constructor(snapshot: Snapshot | null, entries: Entry[], committed: number) {
    this.snapshot = snapshot ?? { meta: { index: 0, term: 0, config: { voters: [], learners: [] } }, data: emptyData }
    const first = this.snapshot.meta.index + 1
    // Storage may hold entries the snapshot already covers; they are dropped.
    this.entries = entries.filter((e) => e.index >= first)
    this.entries.forEach((e, i) => invariant(e.index === first + i, `entries not contiguous at ${e.index}`))
    const last = this.lastIndex()
    this.committed = Math.min(Math.max(committed, this.snapshot.meta.index), last)
    this.applying = this.applied = this.snapshot.meta.index
    this.stable = this.inProgress = last
  }

  firstIndex(): number {
    return this.snapshot.meta.index + 1
  }

  lastIndex(): number {
    return this.snapshot.meta.index + this.entries.length
  }

  lastTerm(): number {
    return this.term(this.lastIndex())!
  }

  /** Term of the entry at `index`, or undefined if it is compacted away or beyond the log. */
  term(index: number): number | undefined {
    const snap = this.snapshot.meta.index
    if (index === snap) return this.snapshot.meta.term
    if (index < snap || index > this.lastIndex()) return undefined
    return this.entries[index - snap - 1]!.term
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term
  }

  /** Raft's election restriction: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastTerm: number, lastIndex: number): boolean {
    const ourTerm = this.lastTerm()
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex())
  }

  entry(index: number): Entry | undefined {
    return this.entries[index - this.snapshot.meta.index - 1]
  }

  /** Entries lo..hi (inclusive) up to `maxBytes` of payload, at least one. Undefined if lo is compacted. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] | undefined {
    if (lo < this.firstIndex()) return undefined
    const out: Entry[] = []
    let bytes = 0
    for (let i = lo; i <= Math.min(hi, this.lastIndex()); i++) {
      const e = this.entry(i)!
      bytes += entryBytes(e)
      if (out.length > 0 && bytes > maxBytes) break
      out.push(e)
    }
    return out
  }

  /**
   * Appends the leader's entries after (prevIndex, prevTerm) if our log has
   * that entry; returns the index of the last new entry, or null on mismatch.
   */
  maybeAppend(prevIndex: number, prevTerm: number, commit: number, entries: readonly Entry[]): number | null {
    if (!this.matchTerm(prevIndex, prevTerm)) return null
    const lastNew = prevIndex + entries.length
    const conflict = this.findConflict(entries)
    if (conflict !== 0) {
      invariant(conflict > this.committed, `entry ${conflict} conflicts with committed entry (committed ${this.committed})`)
      this.append(entries.slice(conflict - entries[0]!.index))
    }
    this.commitTo(Math.min(commit, lastNew))
    return lastNew
  }

  /** Index of the first entry that is not already in our log (0 if all are). */
  private findConflict(entries: readonly Entry[]): number {
    for (const e of entries) if (!this.matchTerm(e.index, e.term)) return e.index
    return 0
  }

  /**
   * The last index <= `index` whose term is <= `term`, and that term: where
   * the leader should probe next (fast backtracking, one probe per term).
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; i > 0; i--) {
      const t = this.term(i)
      if (t === undefined) return { index: i, term: 0 }
      if (t <= term) return { index: i, term: t }
    }
    return { index: 0, term: 0 }
  }

  /** Appends entries, first truncating our log from entries[0].index if it overlaps. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return
    const first = entries[0]!.index
    invariant(first > this.committed, `cannot overwrite committed entry ${first} (committed ${this.committed})`)
    invariant(first <= this.lastIndex() + 1, `gap: appending ${first} after ${this.lastIndex()}`)
    if (first <= this.lastIndex()) {
      this.entries.length = first - this.firstIndex()
      this.stable = Math.min(this.stable, first - 1)
      this.inProgress = Math.min(this.inProgress, first - 1)
    }
    for (const e of entries) this.entries.push(e)
  }

  commitTo(index: number): void {
    if (index <= this.committed) return
    invariant(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`)
    this.committed = index
  }

  /** Leader commit rule (Figure 8): only an entry of the current term commits by counting replicas. */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index)
      return true
    }
    return false
  }

  /** Entries to persist: handed out once each. */
  takeUnstable(): Entry[] {
    const from = this.inProgress + 1
    const last = this.lastIndex()
    if (from > last) return []
    const out = this.entries.slice(from - this.firstIndex())
    this.inProgress = last
    return out
  }

  hasUnstable(): boolean {
    return this.inProgress < this.lastIndex() || this.unstableSnapshot !== null
  }

  /** Committed entries not yet handed out, up to `maxBytes` (at least one). */
  takeCommitted(maxBytes: number): Entry[] {
    if (this.applying >= this.committed) return []
    const out = this.slice(this.applying + 1, this.committed, maxBytes)!
    this.applying = out[out.length - 1]!.index
    return out
  }

  hasCommittedToApply(): boolean {
    return this.applying < this.committed
  }

  /** Replaces the whole log by a snapshot received from the leader. */
  restore(snapshot: Snapshot): void {
    const index = snapshot.meta.index
    invariant(index > this.committed, `restoring snapshot ${index} at or below commit ${this.committed}`)
    this.snapshot = snapshot
    this.entries = []
    this.committed = index
    this.applying = Math.max(this.applying, index)
    this.stable = this.inProgress = index
    this.unstableSnapshot = snapshot
  }

  /** Discards entries up to `snapshot.meta.index`, which the application has snapshotted. */
  compact(snapshot: Snapshot): void {
    const index = snapshot.meta.index
    invariant(index > this.snapshot.meta.index && index <= this.applied, `cannot compact to ${index}`)
    invariant(this.term(index) === snapshot.meta.term, `snapshot term mismatch at ${index}`)
    this.entries = this.entries.slice(index - this.snapshot.meta.index)
    this.snapshot = snapshot
  }
}
