import type { Entry, HardState, SnapshotMeta } from '../storage.js'

export const emptyHardState: HardState = Object.freeze({ term: 0, vote: null, commit: 0 })

/**
 * The durable state of one group as a plain value, and the rules every store
 * applies to it, so that the memory store, the log's live view and its replay
 * after a crash agree exactly. `S` is what a store keeps for a snapshot: the
 * bytes, or a reference to the file holding them.
 */
export class GroupLog<S extends { meta: SnapshotMeta }> {
  hardState: HardState = emptyHardState
  snapshot: S | null = null
  /** Entries firstIndex() .. lastIndex(), contiguous. Entry objects are never mutated. */
  entries: Entry[] = []

  firstIndex(): number {
    return (this.snapshot?.meta.index ?? 0) + 1
  }

  lastIndex(): number {
    return this.firstIndex() - 1 + this.entries.length
  }

  entryAt(index: number): Entry | undefined {
    return this.entries[index - this.firstIndex()]
  }

  /** Why `entries` cannot be appended to this log, or null if they can. */
  appendProblem(entries: readonly Entry[]): string | null {
    const head = entries[0]
    if (!head) return null
    for (let i = 1; i < entries.length; i++) {
      const e = entries[i]!
      if (e.index !== head.index + i) return `entries not contiguous at index ${e.index}`
      if (e.term < entries[i - 1]!.term) return `term goes down at index ${e.index}`
    }
    if (head.index < 1) return `entry index ${head.index} below 1`
    if (head.index > this.lastIndex() + 1) return `gap: entry ${head.index} after last index ${this.lastIndex()}`
    const prevIndex = head.index - 1
    const prevTerm = prevIndex === this.firstIndex() - 1 ? (this.snapshot?.meta.term ?? 0) : this.entryAt(prevIndex)?.term
    if (prevTerm !== undefined && head.term < prevTerm) return `term goes down at index ${head.index}`
    return null
  }

  /**
   * Appends, first truncating the log from `entries[0].index` (a conflict).
   * Entries the snapshot already covers are skipped. Call appendProblem first.
   */
  append(entries: readonly Entry[]): void {
    const first = this.firstIndex()
    let from = 0
    while (from < entries.length && entries[from]!.index < first) from++
    if (from === entries.length) return
    this.entries.length = entries[from]!.index - first
    for (let i = from; i < entries.length; i++) this.entries.push(entries[i]!)
  }

  /** Why this snapshot cannot be saved, or null if it can. */
  snapshotProblem(meta: SnapshotMeta): string | null {
    const current = this.snapshot?.meta.index ?? 0
    if (meta.index < current) return `snapshot ${meta.index} is older than the stored one at ${current}`
    return null
  }

  /**
   * Installs a snapshot and discards the entries it covers. If the log holds
   * a different term at the snapshot's index, the entries after it belong to
   * another history and are discarded too.
   */
  applySnapshot(snapshot: S): void {
    const { index, term } = snapshot.meta
    const at = this.entryAt(index)
    this.entries = at !== undefined && at.term === term ? this.entries.slice(index - this.firstIndex() + 1) : []
    this.snapshot = snapshot
  }
}
