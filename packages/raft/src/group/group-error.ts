import { CodedError } from '@troupe/runtime/errors'

/** Stable codes of the operating failures a RaftGroup reports to its clients. */
export const RaftGroupErrorCode = {
  /** No leader could be reached within the deadline (an election kept failing, or every hint was stale). */
  NOT_LEADER: 'NOT_LEADER',
  /** The deadline passed with a leader known but no answer: no quorum, a partition, or an overloaded group. The command may still apply later. */
  TIMEOUT: 'TIMEOUT',
  /** The group was stopped on this node (or its storage failed). */
  GROUP_STOPPED: 'GROUP_STOPPED',
  /** The client's session expired (by log time) before this retry: the command was not applied again. */
  SESSION_EXPIRED: 'SESSION_EXPIRED',
  /** The state machine's apply threw; the message is the error's. Deterministic: every replica saw the same. */
  COMMAND_FAILED: 'COMMAND_FAILED',
  /** The membership change is invalid for the current configuration. */
  CONF_CHANGE_REJECTED: 'CONF_CHANGE_REJECTED',
  /** The leadership transfer target is not a voter of the group. */
  TRANSFER_REJECTED: 'TRANSFER_REJECTED',
  /** Too many requests are waiting on this node (`maxPendingRequests`) or in the leader's uncommitted log. */
  OVERLOADED: 'OVERLOADED',
  /** Bad input: a command that CBOR cannot carry, a bad group id or option. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
} as const

export type RaftGroupErrorCode = (typeof RaftGroupErrorCode)[keyof typeof RaftGroupErrorCode]

/**
 * Failures after which the same command may succeed if sent again: the group
 * already retried until its deadline, but a caller with a longer one may go
 * on (client sessions make a resent command apply at most once).
 */
const RETRYABLE: ReadonlySet<string> = new Set<RaftGroupErrorCode>(['NOT_LEADER', 'TIMEOUT', 'OVERLOADED', 'SESSION_EXPIRED'])

/** An operating failure of a group request, with a stable `code` and whether a retry may help. */
export class RaftGroupError extends CodedError<RaftGroupErrorCode> {
  override readonly name: string = 'RaftGroupError'
  constructor(
    code: RaftGroupErrorCode,
    message: string,
    /** For NOT_LEADER: the node the group last named as leader, if any. */
    readonly leaderHint: string | null = null,
    options?: { retryable?: boolean },
  ) {
    super(code, message, options, RETRYABLE)
  }
}

/**
 * The error a failed host reply becomes for the caller: the reply's code, message and leader hint.
 * The reply's `retry` (whether the handle resends before its deadline) does not carry over:
 * `retryable` follows from the code, and says whether the caller may send the command again.
 */
export function replyError(r: { code: RaftGroupErrorCode; message: string; leader: string | null }): RaftGroupError {
  return new RaftGroupError(r.code, r.message, r.leader)
}

/** True when `err` is a RaftGroupError, optionally with the given code. */
export function isRaftGroupError(err: unknown, code?: RaftGroupErrorCode): err is RaftGroupError {
  return err instanceof RaftGroupError && (code === undefined || err.code === code)
}
