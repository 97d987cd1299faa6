import type { LeaseCommand, LeaseQuery } from './commands.js'

export interface GroupRequestOptions {
  /** How long to wait for the group before giving up with a timeout. */
  timeoutMs?: number
}

/**
 * What a lease client needs from the Raft group that holds the table: a
 * RaftGroup handle on any node fits. `propose` resolves with the table's
 * result once the command is committed and applied; `read` is linearizable.
 * Failures are errors with a `code` (RaftGroupError or TroupeError).
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

/** Retryable failures of a group request: the command did not apply, or may apply later (it is idempotent). */
const RETRYABLE = new Set(['NOT_LEADER', 'TIMEOUT', 'OVERLOADED', 'SESSION_EXPIRED', 'ASK_TIMEOUT', 'NODE_UNREACHABLE', 'ACTOR_NOT_FOUND', 'BACKPRESSURE'])

export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** Whether a failed group request is worth sending again. */
export function isRetryable(err: unknown): boolean {
  const code = errorCode(err)
  return code !== undefined && RETRYABLE.has(code)
}
