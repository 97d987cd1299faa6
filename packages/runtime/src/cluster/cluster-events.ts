import type { Member, MemberStatus } from './member.js'

/** Events on `cluster.events`, in the order this node learns of them. */
export interface ClusterEvents {
  /** A member appeared with status joining. */
  memberJoined: [Member]
  memberUp: [Member]
  /** A member asked to leave. */
  memberLeft: [Member]
  memberExited: [Member]
  /** A member was downed (by the downing strategy or by hand); its asks now fail and watches fire. */
  memberDown: [Member]
  /** A member left the membership; `previous` is the status it had here before. */
  memberRemoved: [member: Member, previous: MemberStatus]
  unreachable: [Member]
  reachable: [Member]
  leaderChanged: [leader: string | null]
  /** This node was downed: it owns nothing any more and its cluster is finished. */
  selfDown: []
  /** This node was removed (after a graceful leave, or replaced by a newer incarnation). */
  selfRemoved: []
  /** `upMembers()` changed (the MembershipView event). */
  changed: []
  /** `cluster.version` changed: a member joined that speaks less (it dropped), or the last one that did left (it rose). */
  versionChanged: [version: number, previous: number]
}

export interface Snapshot {
  readonly members: ReadonlyMap<string, Member>
  readonly leader: string | null
  readonly up: readonly string[]
}

export const EMPTY_SNAPSHOT: Snapshot = { members: new Map(), leader: null, up: [] }

export type Emit = <K extends keyof ClusterEvents>(event: K, ...args: ClusterEvents[K]) => void

const STATUS_EVENT = {
  joining: 'memberJoined',
  up: 'memberUp',
  leaving: 'memberLeft',
  exiting: 'memberExited',
  down: 'memberDown',
} as const

/**
 * Emits the events that lead from `prev` to `next`, per node (sorted) in
 * lifecycle order: unreachable, the status event, reachable; then the
 * leader, then `changed`. Calls `nodeGone` for a member that became down,
 * was removed without being down, or was replaced by a newer incarnation,
 * and `nodeBack` for an incarnation new here that is not down (after
 * `nodeGone` of the one it replaces).
 */
export function emitDiff(self: string, prev: Snapshot, next: Snapshot, emit: Emit, nodeGone: (node: string) => void, nodeBack: (node: string) => void): void {
  const nodes = [...new Set([...prev.members.keys(), ...next.members.keys()])].sort()
  for (const node of nodes) {
    const before = prev.members.get(node)
    const after = next.members.get(node)
    const replaced = before !== undefined && after !== undefined && before.incarnation !== after.incarnation
    if (before !== undefined && (after === undefined || replaced)) {
      if (before.status !== 'down' && node !== self) nodeGone(node)
      emit('memberRemoved', { ...before, status: 'removed' }, before.status)
    }
    if (after === undefined) continue
    const known = before !== undefined && !replaced
    if (!known && after.status !== 'down' && node !== self) nodeBack(node)
    if (!after.reachable && (!known || before.reachable)) emit('unreachable', after)
    if (!known || before.status !== after.status) {
      if (after.status === 'down' && node !== self) nodeGone(node)
      if (after.status !== 'removed') emit(STATUS_EVENT[after.status], after)
    }
    if (known && after.reachable && !before.reachable) emit('reachable', after)
  }
  if (prev.leader !== next.leader) emit('leaderChanged', next.leader)
  if (prev.up.length !== next.up.length || prev.up.some((n, i) => n !== next.up[i])) emit('changed')
}
