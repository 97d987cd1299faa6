/**
 * Durable state of one Raft group, as the core sees it. The core keeps the
 * uncompacted log in memory; a LogStorage only makes it durable and gives it
 * back on restart. Writes are buffered and become durable together on `sync`
 * (group commit): nothing that depends on them (a vote, an append response, a
 * client acknowledgement) may leave the node before that promise resolves.
 */

/** Voter and learner sets. `votersOutgoing` is set only while in joint consensus. */
export interface ClusterConfig {
  voters: string[]
  learners: string[]
  votersOutgoing?: string[]
  /** Learners that become voters when the joint configuration is left (etcd's LearnersNext). */
  learnersNext?: string[]
}

export interface HardState {
  term: number
  /** The candidate voted for in `term`, or null. */
  vote: string | null
  /** Highest index known committed (may lag; recovery recomputes it). */
  commit: number
}

export type EntryKind = 'normal' | 'config'

export interface Entry {
  term: number
  index: number
  kind: EntryKind
  /** Opaque command bytes; for 'config' entries the CBOR of a config change. Empty for no-ops. */
  data: Uint8Array
}

export interface SnapshotMeta {
  index: number
  term: number
  config: ClusterConfig
}

export interface Snapshot {
  meta: SnapshotMeta
  data: Uint8Array
}

export interface PersistedState {
  hardState: HardState
  snapshot: Snapshot | null
  /** Entries after the snapshot, contiguous and in index order. */
  entries: Entry[]
}

export interface LogStorage {
  /** Everything that was durable when the store was opened. */
  load(): Promise<PersistedState>
  /**
   * Buffers entries. If `entries[0].index` is at or below the last stored
   * index, the stored log is first truncated from that index (a conflict).
   */
  append(entries: Entry[]): void
  /** Buffers the hard state. */
  setHardState(state: HardState): void
  /** Buffers a snapshot; entries at or below its index are discarded. */
  saveSnapshot(snapshot: Snapshot): void
  /** Resolves when everything buffered before the call is durable. Rejects if the disk fails. */
  sync(): Promise<void>
  close(): Promise<void>
}
