/**
 * What sharding and pub/sub need from cluster membership: who this node is,
 * which members are up (sorted, the same order on every node that shares the
 * view), and a signal when that set changes. Mirrors `MembershipView` in
 * `../cluster/view.ts`; this local copy goes once that file lands.
 */
export interface MembershipView {
  readonly self: string
  /** Names of the members that are up, sorted. */
  upMembers(): readonly string[]
  on(event: 'changed', listener: () => void): unknown
  off?(event: 'changed', listener: () => void): unknown
}
