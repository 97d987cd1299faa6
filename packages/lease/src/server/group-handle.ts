import type { LeaseCommand, LeaseQuery } from '../core/commands.js'

export interface GroupRequestOptions {
  /** How long to wait for the group before giving up with a timeout. */
  timeoutMs?: number
}

/**
 * What a lease client needs from the Raft group that holds the table: a
 * RaftGroup handle on any node fits. `propose` resolves with the table's
 * result once the command is committed and applied; `read` is linearizable.
 * Failures are coded errors (RaftGroupError or TroupeError, as a RaftGroup
 * throws them); the client sends a request again when the error says it is
 * `retryable` (`isRetryable` of `@troupe/runtime`), and otherwise fails.
 */
export interface LeaseGroup {
  propose(command: LeaseCommand, options?: GroupRequestOptions): Promise<unknown>
  read(query: LeaseQuery, options?: GroupRequestOptions): Promise<unknown>
}

/** What this node's replica of the group says about itself. */
export interface ReplicaRole {
  /** This replica believes it is the leader. */
  leader: boolean
  /** Its current term. */
  term: number
}

/**
 * What the lease service on a member node needs from its local replica:
 * its role (to decide whether to judge expiry and send hints) and a way to
 * propose through it.
 */
export interface LeaseReplica extends LeaseGroup {
  role(): ReplicaRole | Promise<ReplicaRole>
}
