/**
 * What sharding and pub/sub need from cluster membership: who this node is,
 * which members are up (sorted, the same on every node that shares the
 * view), and a signal when that set changes.
 */
export type { MembershipView } from '../cluster/view.js'
