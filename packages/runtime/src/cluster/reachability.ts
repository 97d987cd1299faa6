/** A member at one incarnation, as an observation names it. */
export interface Subject {
  readonly node: string
  readonly incarnation: number
}

/**
 * What one observer currently cannot reach. Only the observer changes its own
 * record, bumping `version` each time, so merging keeps the record with the
 * larger (incarnation, version) per observer.
 */
export interface ObserverRecord {
  readonly observer: string
  readonly incarnation: number
  readonly version: number
  /** Sorted by node name. */
  readonly unreachable: readonly Subject[]
}

/**
 * The cluster's reachability table (Akka's `Reachability`, simplified): a
 * subject is unreachable while any live observer lists it, and reachable
 * again once every observer has taken it off its list.
 */
export class Reachability {
  private readonly records = new Map<string, ObserverRecord>()

  static from(records: Iterable<ObserverRecord>): Reachability {
    const r = new Reachability()
    for (const rec of records) r.records.set(rec.observer, rec)
    return r
  }

  clone(): Reachability {
    return Reachability.from(this.records.values())
  }

  /** All records, sorted by observer (the digest depends on this order). */
  list(): ObserverRecord[] {
    return [...this.records.values()].sort((a, b) => (a.observer < b.observer ? -1 : a.observer > b.observer ? 1 : 0))
  }

  /** Subjects `observer` lists as unreachable. */
  observedBy(observer: string): readonly Subject[] {
    return this.records.get(observer)?.unreachable ?? []
  }

  /** The observer (at `incarnation`) cannot reach `subject`. Returns true when the table changed. */
  markUnreachable(observer: string, incarnation: number, subject: Subject): boolean {
    const rec = this.recordOf(observer, incarnation)
    if (rec.unreachable.some((s) => s.node === subject.node && s.incarnation === subject.incarnation)) return false
    const list = rec.unreachable.filter((s) => s.node !== subject.node).concat(subject)
    list.sort((a, b) => (a.node < b.node ? -1 : 1))
    this.records.set(observer, { observer, incarnation, version: rec.version + 1, unreachable: list })
    return true
  }

  /** The observer reaches `node` again. Returns true when the table changed. */
  markReachable(observer: string, incarnation: number, node: string): boolean {
    const rec = this.recordOf(observer, incarnation)
    if (!rec.unreachable.some((s) => s.node === node)) return false
    const list = rec.unreachable.filter((s) => s.node !== node)
    this.records.set(observer, { observer, incarnation, version: rec.version + 1, unreachable: list })
    return true
  }

  /** Keeps, per observer, the newer record. Returns true when this table changed. */
  merge(other: Reachability): boolean {
    let changed = false
    for (const theirs of other.records.values()) {
      const mine = this.records.get(theirs.observer)
      if (mine === undefined || newer(theirs, mine)) {
        this.records.set(theirs.observer, theirs)
        changed = true
      }
    }
    return changed
  }

  /**
   * Drops records of observers that no longer count (down, removed, or an
   * older incarnation) and subjects that are no longer members at the listed
   * incarnation. The result depends only on the table and the predicates, so
   * replicas that agree on membership agree on the pruned table.
   */
  prune(observerCounts: (node: string, incarnation: number) => boolean, subjectIsMember: (node: string, incarnation: number) => boolean): void {
    for (const [observer, rec] of this.records) {
      if (!observerCounts(observer, rec.incarnation)) {
        this.records.delete(observer)
        continue
      }
      const kept = rec.unreachable.filter((s) => subjectIsMember(s.node, s.incarnation))
      if (kept.length !== rec.unreachable.length) this.records.set(observer, { ...rec, unreachable: kept })
    }
  }

  /** Nodes some observer lists as unreachable (`self` excluded: a node always reaches itself). */
  unreachableNodes(self: string): Set<string> {
    const out = new Set<string>()
    for (const rec of this.records.values()) for (const s of rec.unreachable) if (s.node !== self) out.add(s.node)
    return out
  }

  private recordOf(observer: string, incarnation: number): ObserverRecord {
    const rec = this.records.get(observer)
    if (rec !== undefined && rec.incarnation === incarnation) return rec
    return { observer, incarnation, version: 0, unreachable: [] }
  }
}

function newer(a: ObserverRecord, b: ObserverRecord): boolean {
  return a.incarnation !== b.incarnation ? a.incarnation > b.incarnation : a.version > b.version
}
