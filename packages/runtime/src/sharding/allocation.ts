import { invariant } from '../errors.js'
import { compareAppVersions } from '../cluster/member-info.js'
import { fmix32, fnv1a32Fmix } from '../hash.js'

/**
 * Shard → owner node by rendezvous (highest random weight) hashing: each
 * shard goes to the member with the highest score(shard, member). Every node
 * that sees the same member set computes the same table with no coordination.
 * When a member joins it takes only the shards it now wins (≈1/N of them,
 * from every old member alike); when one leaves only its shards move, spread
 * over the others. A ring would need virtual nodes to balance this well; with
 * a fixed shard count the O(shards × members) table is computed once per view.
 */
export class Allocation {
  private readonly owners: Uint16Array

  private constructor(
    readonly key: string,
    readonly members: readonly string[],
    owners: Uint16Array,
  ) {
    this.owners = owners
  }

  /** `members` must be sorted and distinct (a membership view gives them so). */
  static compute(members: readonly string[], shards: number): Allocation {
    invariant(members.length > 0 && members.length < 0xffff, 'allocation needs 1..65534 members')
    const memberHashes = members.map(fnv1a32Fmix)
    const owners = new Uint16Array(shards)
    for (let s = 0; s < shards; s++) {
      const shardMix = fmix32(Math.imul(s + 1, 0x9e3779b1))
      let best = 0
      let bestScore = -1
      for (let m = 0; m < memberHashes.length; m++) {
        const score = fmix32(memberHashes[m] ^ shardMix)
        // Ties go to the member sorted first, so the table is still a function of the set.
        if (score > bestScore) {
          best = m
          bestScore = score
        }
      }
      owners[s] = best
    }
    return new Allocation(keyOf(members), members, owners)
  }

  /**
   * The table for shards allocated fresh (not a rebalance of a live one),
   * app-version aware as in Akka: the candidates are the members running the
   * newest app version (see `newestMembers`), by the same rendezvous hashing.
   * Deterministic: a function of the member set and their app versions.
   * When every member runs the same version (or none says one), it is
   * exactly `compute(members, shards)`.
   */
  static forNewShards(members: readonly string[], shards: number, appVersionOf: (node: string) => string | undefined): Allocation {
    return Allocation.compute(newestMembers(members, appVersionOf), shards)
  }

  ownerOf(shard: number): string {
    return this.members[this.owners[shard]]
  }

  /** Number of shards each member owns (for tests and stats). */
  counts(): Map<string, number> {
    const out = new Map<string, number>(this.members.map((m) => [m, 0]))
    for (const o of this.owners) out.set(this.members[o], out.get(this.members[o])! + 1)
    return out
  }
}

export function keyOf(members: readonly string[]): string {
  return members.join('\u0000')
}

/** A few recent tables by member set: peers report views that are mostly the same few. */
export class AllocationCache {
  private readonly tables = new Map<string, Allocation>()

  constructor(
    private readonly shards: number,
    private readonly capacity = 16,
  ) {}

  get(members: readonly string[]): Allocation | null {
    if (members.length === 0) return null
    const key = keyOf(members)
    const hit = this.tables.get(key)
    if (hit !== undefined) {
      this.tables.delete(key)
      this.tables.set(key, hit)
      return hit
    }
    const table = Allocation.compute(members, this.shards)
    this.tables.set(key, table)
    if (this.tables.size > this.capacity) this.tables.delete(this.tables.keys().next().value!)
    return table
  }
}

/**
 * The members running the newest app version (`compareAppVersions`: numeric
 * dotted parts as numbers, then strings; unknown counts as ''), sorted;
 * all of `members` when they share one version. `members` sorted and distinct.
 */
export function newestMembers(members: readonly string[], appVersionOf: (node: string) => string | undefined): string[] {
  let newest: string | null = null
  let out: string[] = []
  for (const m of members) {
    const v = appVersionOf(m) ?? ''
    const c = newest === null ? 1 : compareAppVersions(v, newest)
    if (c > 0) {
      newest = v
      out = [m]
    } else if (c === 0) {
      out.push(m)
    }
  }
  return out.length === 0 ? [...members] : out
}

/** Sorted, distinct copy of a member list (views promise this; peers' reports are checked). */
export function normalizeMembers(members: readonly string[]): string[] {
  return [...new Set(members)].sort()
}
