// @troupe/raft/core: the pure Raft core (no I/O, no timers) and its messages,
// for those who drive it themselves, etcd-style: step/tick in, take a Ready,
// persist and send it, then advance.
export { RaftCore } from './internal/raft-core.js'
export type { ProposalHandle, RaftStatus, PeerStatus } from './internal/raft-core.js'
export type { Ready, SoftState } from './internal/ready.js'
export type { ReadState, Role } from './internal/raft.js'
export type { RaftOptions, ReadOnlyMode } from './internal/options.js'
export { defaultOptions } from './internal/options.js'
export type {
  RaftMessage, MessageType, ReadContext, VoteRequest, VoteResponse, AppendRequest, AppendResponse,
  HeartbeatRequest, HeartbeatResponse, SnapshotChunk, SnapshotChunkAck, TimeoutNow, ReadIndexRequest, ReadIndexResponse,
} from './internal/message.js'
export { messageProblem } from './internal/message.js'
export type { ConfChange, ConfChangeType } from './internal/conf-change.js'
export { encodeConfChange, decodeConfChange } from './internal/conf-change.js'
export { RaftError, RaftErrorCode, InvariantError } from './internal/errors.js'
export { bootstrapState, emptyState } from './internal/bootstrap.js'
// What the core persists and recovers from (also exported by `.`, for storage implementations).
export type { ClusterConfig, HardState, Entry, EntryKind, Snapshot, SnapshotMeta, PersistedState, LogStorage } from './storage.js'
