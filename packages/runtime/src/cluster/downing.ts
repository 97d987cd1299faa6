import { compareByAddress } from './member.js'
import type { MemberRecord } from './member.js'

/** What a downing strategy sees: the leader's view once unreachability has been stable. */
export interface DowningInput {
  readonly self: string
  /** Every member record (any status). */
  readonly members: readonly MemberRecord[]
  /** Nodes currently observed unreachable (never `self`). */
  readonly unreachable: ReadonlySet<string>
}

/** Decides which nodes to mark down (may include `self`). Pure. */
export type DowningStrategy = (input: DowningInput) => string[]

/**
 * Keep-majority (Akka's split brain resolver): count up and leaving members;
 * the side that reaches more than half of them downs the unreachable ones;
 * the other side downs itself. On an exact tie the side holding the lowest
 * address (among counted members) survives. With clean partitions both sides
 * decide the same split, so exactly one side survives.
 */
export const keepMajority: DowningStrategy = ({ self, members, unreachable }) => {
  const live = members.filter((m) => m.status !== 'down')
  let counted = live.filter((m) => m.status === 'up' || m.status === 'leaving')
  if (counted.length === 0) counted = live
  const reachable = counted.filter((m) => m.node === self || !unreachable.has(m.node)).length
  const lowest = [...counted].sort(compareByAddress)[0]
  const keep =
    reachable * 2 > counted.length || (reachable * 2 === counted.length && lowest !== undefined && (lowest.node === self || !unreachable.has(lowest.node)))
  if (keep) return live.filter((m) => m.node !== self && unreachable.has(m.node)).map((m) => m.node)
  return live.filter((m) => m.node === self || !unreachable.has(m.node)).map((m) => m.node)
}

/** Never downs anyone: unreachable members wait for `cluster.down(node)`. */
export const manualDowning: DowningStrategy = () => []
