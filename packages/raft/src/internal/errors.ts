import { CodedError } from '@troupe/runtime/errors'

/** Stable codes of the operating failures the Raft core reports. */
export const RaftErrorCode = {
  /** This node is not the leader; `leaderHint` names the leader it knows of, if any. */
  NOT_LEADER: 'NOT_LEADER',
  /** The leader refused the proposal: transfer in progress, uncommitted cap reached, or removed. */
  PROPOSAL_DROPPED: 'PROPOSAL_DROPPED',
  /** The configuration change is invalid or another one is still pending. */
  CONF_CHANGE_REJECTED: 'CONF_CHANGE_REJECTED',
  /** A leadership transfer target is not a voter, or is unknown. */
  TRANSFER_REJECTED: 'TRANSFER_REJECTED',
  /** A read could not be queued (no leader known, or too many pending reads). */
  READ_DROPPED: 'READ_DROPPED',
  /** compact() was asked for an index the core cannot compact to. */
  COMPACT_REJECTED: 'COMPACT_REJECTED',
} as const

export type RaftErrorCode = (typeof RaftErrorCode)[keyof typeof RaftErrorCode]

/** The core's refusals that may pass: a leader elsewhere or later, room in the pipeline again. */
const RETRYABLE: ReadonlySet<string> = new Set<RaftErrorCode>(['NOT_LEADER', 'PROPOSAL_DROPPED', 'READ_DROPPED'])

/** An operating failure the caller can act on (retry elsewhere, back off). */
export class RaftError extends CodedError<RaftErrorCode> {
  override readonly name: string = 'RaftError'
  constructor(
    code: RaftErrorCode,
    message: string,
    /** For NOT_LEADER: the leader this node believes in, or null if none is known. */
    readonly leaderHint: string | null = null,
  ) {
    super(code, message, undefined, RETRYABLE)
  }
}

// A broken invariant is a bug in the core or its driver; the one class of the
// whole project, so `instanceof InvariantError` holds across packages. The
// errors subpath imports nothing, so the core loads no sockets or codec.
export { InvariantError, invariant } from '@troupe/runtime/errors'
