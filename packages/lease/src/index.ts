// Client: acquire, keep alive, release; fencing; elections; strict single activation.
export { Leases } from './client/leases.js'
export type { LeasesOptions, LeasesStats, AcquireOptions, WatchOptions } from './client/options.js'
export { Lease } from './client/lease.js'
export type { DriftMargin } from './client/lease.js'
export { FenceGuard } from './fence-guard.js'
export type { FenceGuardOptions } from './fence-guard.js'
export { ELECTION_PREFIX } from './election.js'
export type { ElectionLeader } from './election.js'
export { LeaseError, LeaseErrorCode, FencedError, isLeaseError } from './lease-error.js'
export { leaseActivationGuard } from './entity-activation.js'
export type { LeaseActivationGuardOptions } from './entity-activation.js'
// Core: the pure lease table and the leader's expiry judgment.
export { LeaseTable, DEFAULT_TABLE_OPTIONS } from './core/lease-table.js'
export type { LeaseApplyMeta, LeaseTableOptions, LeaseTableListener, EntryView } from './core/lease-table.js'
export { ExpiryJudge } from './core/expiry-judge.js'
export type {
  LeaseMode, LeaseCommand, LeaseResult, LeaseQuery, LeaseQueryResult, NameInfo, HolderInfo, EntryStatus, GoneReason,
  AcquireCommand, KeepAliveCommand, ReleaseCommand, ExpireCommand, ExpireItem, RequestRef, RenewCommand, RenewItem, RenewResult,
  WatchRequest, WatchAnswer,
} from './core/commands.js'
// Server: the table's host on a member, the Raft group it lives in, the messages to client inboxes.
export { LeaseService } from './server/lease-service.js'
export type { LeaseServiceOptions, LeaseServiceStats } from './server/lease-service.js'
export type { LeaseGroup, LeaseReplica, ReplicaRole, GroupRequestOptions } from './server/group-handle.js'
export type { GrantHint, InboxProtocol, WatchEvent, WatchBeat, WatchAck, WatchServiceProtocol } from './server/inbox-protocol.js'
export { openLeaseGroup, replicaOf } from './server/raft-lease-group.js'
export type { LeaseGroupOptions, LeaseRaftGroup, OpenedLeaseGroup } from './server/raft-lease-group.js'
