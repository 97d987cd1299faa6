export { Leases } from './leases.js'
export type { LeasesOptions, AcquireOptions, WatchOptions } from './leases.js'
export { Lease } from './lease.js'
export type { DriftMargin } from './lease.js'
export { FenceGuard } from './fence-guard.js'
export type { FenceGuardOptions } from './fence-guard.js'
export { ELECTION_PREFIX } from './election.js'
export type { ElectionLeader } from './election.js'
export { LeaseError, LeaseErrorCode, FencedError, isLeaseError } from './lease-error.js'
export { LeaseTable, DEFAULT_TABLE_OPTIONS } from './lease-table.js'
export type { LeaseApplyMeta, LeaseTableOptions, LeaseTableListener, DueEntry } from './lease-table.js'
export { LeaseService } from './lease-service.js'
export type { LeaseServiceOptions, LeaseServiceStats } from './lease-service.js'
export type { LeaseGroup, LeaseReplica, ReplicaRole, GroupRequestOptions } from './group.js'
export type { GrantHint, InboxProtocol } from './inbox.js'
export type {
  LeaseMode, LeaseCommand, LeaseResult, LeaseQuery, LeaseQueryResult, NameInfo, HolderInfo, EntryStatus, GoneReason,
  AcquireCommand, KeepAliveCommand, ReleaseCommand, ExpireCommand, TickCommand, RequestRef,
} from './commands.js'
