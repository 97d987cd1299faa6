import { cyrb53 } from '../hash.js'
import { infoDigestPart } from './member-info.js'
import { compareByAddress, laterRecord } from './member.js'
import type { MemberRecord, MemberStatus } from './member.js'
import { Reachability } from './reachability.js'

/** A removed incarnation: records of `node` at or below `incarnation` can never come back. */
export interface Tombstone {
  readonly node: string
  readonly incarnation: number
  /** When the remover removed it (its clock); only used to expire old tombstones. */
  readonly removedAtMs: number
}

/** Statuses whose members must have seen a state before the leader acts on it. */
const CONVERGENCE: ReadonlySet<MemberStatus> = new Set(['joining', 'up', 'leaving', 'exiting'])

/**
 * The gossiped cluster state, pure data: member records, tombstones,
 * reachability observations, and the set of nodes that have seen exactly
 * this content (`seen`). Merging is a join: per node the larger incarnation
 * wins, then the later status; tombstones win over records at or below their
 * incarnation. So replicas that have exchanged the same records are equal,
 * whatever the order of exchanges. The digest names the content (seen
 * excluded): equal digests mean equal states.
 */
export class Membership {
  private readonly memberMap = new Map<string, MemberRecord>()
  private readonly tombstoneMap = new Map<string, Tombstone>()
  reachability = new Reachability()
  seen = new Set<string>()
  private digestCache: number | null = null

  static from(members: Iterable<MemberRecord>, tombstones: Iterable<Tombstone>, reachability: Reachability, seen: Iterable<string>): Membership {
    const m = new Membership()
    for (const t of tombstones) m.tombstoneMap.set(t.node, t)
    for (const r of members) m.memberMap.set(r.node, r)
    m.reachability = reachability
    m.seen = new Set(seen)
    m.normalize()
    return m
  }

  clone(): Membership {
    return Membership.from(this.memberMap.values(), this.tombstoneMap.values(), this.reachability.clone(), this.seen)
  }

  get(node: string): MemberRecord | undefined {
    return this.memberMap.get(node)
  }

  /** Members sorted by node name. */
  members(): MemberRecord[] {
    return [...this.memberMap.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
  }

  get size(): number {
    return this.memberMap.size
  }

  tombstones(): Tombstone[] {
    return [...this.tombstoneMap.values()].sort((a, b) => (a.node < b.node ? -1 : 1))
  }

  tombstoneOf(node: string): Tombstone | undefined {
    return this.tombstoneMap.get(node)
  }

  /** Adds or replaces a record (the merge rule decides). Returns true when the content changed. */
  put(record: MemberRecord): boolean {
    const tomb = this.tombstoneMap.get(record.node)
    if (tomb !== undefined && record.incarnation <= tomb.incarnation) return false
    const mine = this.memberMap.get(record.node)
    if (mine !== undefined && (laterRecord(mine, record) === mine || sameRecord(mine, record))) return false
    this.memberMap.set(record.node, record)
    this.changed()
    return true
  }

  /** Moves `node` (at its current incarnation) to `status`, if that is forward. Removal goes through `remove`. */
  setStatus(node: string, status: Exclude<MemberStatus, 'removed'>): boolean {
    const m = this.memberMap.get(node)
    if (m === undefined) return false
    return this.put({ ...m, status })
  }

  /** `observer` (at `incarnation`) cannot reach `subject` at its current incarnation. */
  observeUnreachable(observer: string, incarnation: number, subject: string): boolean {
    const m = this.memberMap.get(subject)
    if (m === undefined || !this.reachability.markUnreachable(observer, incarnation, { node: subject, incarnation: m.incarnation })) return false
    this.changed()
    return true
  }

  /** `observer` reaches `subject` again. */
  observeReachable(observer: string, incarnation: number, subject: string): boolean {
    if (!this.reachability.markReachable(observer, incarnation, subject)) return false
    this.changed()
    return true
  }

  /** Tombstones `node` at `incarnation` and drops its record if it is not newer. */
  remove(node: string, incarnation: number, nowMs: number): boolean {
    const tomb = this.tombstoneMap.get(node)
    if (tomb !== undefined && tomb.incarnation >= incarnation) return false
    this.tombstoneMap.set(node, { node, incarnation, removedAtMs: nowMs })
    this.changed()
    return true
  }

  /**
   * Merges `other` into this state and sets `seen` by the rule: equal content
   * unions both seen sets; taking over the other's content keeps its seen set;
   * content that is new to both starts a new seen set. `self` is always added.
   */
  merge(other: Membership, self: string, tombstoneMaxAgeMs: number, nowMs: number): { changed: boolean; theyLack: boolean } {
    const before = this.digest()
    const mySeen = this.seen
    for (const t of other.tombstoneMap.values()) {
      if (nowMs - t.removedAtMs > tombstoneMaxAgeMs) continue
      const mine = this.tombstoneMap.get(t.node)
      if (mine === undefined || t.incarnation > mine.incarnation || (t.incarnation === mine.incarnation && t.removedAtMs > mine.removedAtMs)) {
        this.tombstoneMap.set(t.node, t)
      }
    }
    for (const r of other.memberMap.values()) {
      const mine = this.memberMap.get(r.node)
      if (mine === undefined || laterRecord(mine, r) !== mine) this.memberMap.set(r.node, r)
    }
    this.reachability.merge(other.reachability)
    this.normalize()
    this.digestCache = null
    const after = this.digest()
    const theirs = other.digest()
    if (after === theirs && after === before) this.seen = new Set([...mySeen, ...other.seen, self])
    else if (after === theirs) this.seen = new Set([...other.seen, self])
    else if (after === before) this.seen = new Set([...mySeen, self])
    else this.seen = new Set([self])
    return { changed: after !== before, theyLack: after !== theirs }
  }

  /** Expires tombstones older than `maxAgeMs`; the node may then join again at any incarnation. */
  expireTombstones(nowMs: number, maxAgeMs: number): boolean {
    let changed = false
    for (const [node, t] of this.tombstoneMap) {
      if (nowMs - t.removedAtMs <= maxAgeMs) continue
      this.tombstoneMap.delete(node)
      changed = true
    }
    if (changed) this.changed()
    return changed
  }

  /** Nodes currently observed unreachable, from `self`'s point of view. */
  unreachable(self: string): Set<string> {
    return this.reachability.unreachableNodes(self)
  }

  /**
   * The leader: the lowest address among reachable up/leaving members; when
   * there are none, among reachable joining members (bootstrap), then exiting
   * ones (the last member leaving removes itself).
   */
  leader(self: string): string | null {
    const unreachable = this.unreachable(self)
    const candidates = (statuses: ReadonlySet<MemberStatus>) =>
      [...this.memberMap.values()].filter((m) => statuses.has(m.status) && !unreachable.has(m.node)).sort(compareByAddress)
    const best = candidates(LEADER_STATUSES)[0] ?? candidates(JOINING)[0] ?? candidates(EXITING)[0]
    return best?.node ?? null
  }

  /** Every reachable member that must see this state has seen it. */
  converged(self: string): boolean {
    const unreachable = this.unreachable(self)
    for (const m of this.memberMap.values()) {
      if (CONVERGENCE.has(m.status) && !unreachable.has(m.node) && !this.seen.has(m.node)) return false
    }
    return true
  }

  /** The content's digest (members, tombstones, reachability; not `seen`). */
  digest(): number {
    if (this.digestCache !== null) return this.digestCache
    const parts: string[] = []
    for (const m of this.members()) parts.push(`m${m.node}\u0000${m.address}\u0000${m.incarnation}\u0000${m.status}${infoDigestPart(m.info)}`)
    for (const t of this.tombstones()) parts.push(`t${t.node}\u0000${t.incarnation}\u0000${t.removedAtMs}`)
    for (const r of this.reachability.list()) {
      parts.push(`r${r.observer}\u0000${r.incarnation}\u0000${r.version}\u0000${r.unreachable.map((s) => `${s.node}@${s.incarnation}`).join(',')}`)
    }
    this.digestCache = cyrb53(parts.join('\u0001'))
    return this.digestCache
  }

  /** `self` has seen the current content (call after local changes, which clear `seen`). */
  touch(self: string): void {
    this.seen.add(self)
  }

  /** Local content change: new digest, and nobody has seen it yet. */
  private changed(): void {
    this.normalize()
    this.digestCache = null
    this.seen = new Set()
  }

  /** Drops records under tombstones and observations of/by members that are gone. */
  private normalize(): void {
    for (const [node, t] of this.tombstoneMap) {
      const m = this.memberMap.get(node)
      if (m !== undefined && m.incarnation <= t.incarnation) this.memberMap.delete(node)
    }
    this.reachability.prune(
      (node, incarnation) => {
        const m = this.memberMap.get(node)
        return m !== undefined && m.incarnation === incarnation && m.status !== 'down'
      },
      (node, incarnation) => this.memberMap.get(node)?.incarnation === incarnation,
    )
  }
}

const LEADER_STATUSES: ReadonlySet<MemberStatus> = new Set(['up', 'leaving'])
const JOINING: ReadonlySet<MemberStatus> = new Set(['joining'])
const EXITING: ReadonlySet<MemberStatus> = new Set(['exiting'])

function sameRecord(a: MemberRecord, b: MemberRecord): boolean {
  return a.incarnation === b.incarnation && a.status === b.status && a.address === b.address
}
