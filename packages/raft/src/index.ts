// @troupe/raft: replicated state machines on Raft groups, many groups per node.
// The core, for those who drive it themselves, is `@troupe/raft/core`; helpers
// for other packages' tests are `@troupe/raft/testing`.

// Groups: open one, talk to it, tune the node's host.
export { group, raftHost, transferLeadershipAway } from './group/group.js'
export type { LeadershipHandoff } from './group/leadership-handoff.js'
export type { GroupOptions } from './group/group.js'
export { RaftGroup } from './group/raft-group.js'
export type { RequestOptions } from './group/raft-group.js'
export type { StateMachine, ApplyMeta } from './group/state-machine.js'
export type { RaftHostOptions } from './group/host-options.js'
export type { GroupStatus, HostStats } from './group/host-protocol.js'
export { RAFT_HOST_PATH } from './group/raft-host.js'
export { RaftGroupError, RaftGroupErrorCode, isRaftGroupError } from './group/group-error.js'

// Storage: where a group's log goes, and the interface of your own.
export type { ClusterConfig, HardState, Entry, EntryKind, Snapshot, SnapshotMeta, PersistedState, LogStorage } from './storage.js'
export { MemoryLogStorage } from './storage/memory-log-storage.js'
export { WriteAheadLog } from './storage/write-ahead-log.js'
export type { WalStats } from './storage/write-ahead-log.js'
export type { WalOptions } from './storage/wal-options.js'
export type { WalLogStorage } from './storage/wal-log-storage.js'
export { StorageError, StorageErrorCode } from './storage/storage-error.js'
