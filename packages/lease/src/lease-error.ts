import { CodedError } from '@troupe/runtime/errors'

/** Stable codes of the operating failures the lease package reports. */
export const LeaseErrorCode = {
  /** The lease is lost, or may be lost: the server expired it, its local deadline passed, or the event loop stalled. */
  LEASE_LOST: 'LEASE_LOST',
  /** The holder released the lease (the reason its `signal` carries after `release()`). */
  LEASE_RELEASED: 'LEASE_RELEASED',
  /** `waitMs` passed before the lease was granted. */
  LEASE_TIMEOUT: 'LEASE_TIMEOUT',
  /** The caller's `signal` aborted the acquire. */
  LEASE_ABORTED: 'LEASE_ABORTED',
  /** A `FenceGuard` refused a token lower than the highest it has seen. */
  FENCED: 'FENCED',
  /** The lease group could not be reached (stopped, or an error that retrying cannot fix). */
  UNAVAILABLE: 'UNAVAILABLE',
  /** The table refused to grow: too many waiters for the name, names or clients. */
  OVERLOADED: 'OVERLOADED',
  /** Bad input: an empty name, a ttl out of range, an oversized value. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** The `Leases` client was closed. */
  CLOSED: 'CLOSED',
} as const

export type LeaseErrorCode = (typeof LeaseErrorCode)[keyof typeof LeaseErrorCode]

/** Failures a later try may not meet: the group was unreachable, or the table was full. */
const RETRYABLE: ReadonlySet<string> = new Set<LeaseErrorCode>(['UNAVAILABLE', 'OVERLOADED', 'LEASE_TIMEOUT'])

/** An operating failure of a lease operation, with a stable `code` and whether a retry may help. */
export class LeaseError extends CodedError<LeaseErrorCode> {
  override readonly name: string = 'LeaseError'
  constructor(code: LeaseErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(code, message, options, RETRYABLE)
  }
}

/** Thrown by `FenceGuard` when a token is lower than the highest it has seen. */
export class FencedError extends LeaseError {
  constructor(
    /** The token that was refused. */
    readonly token: number,
    /** The highest token the guard had seen. */
    readonly highestToken: number,
    resource: string,
  ) {
    super('FENCED', `${resource}: token ${token} is stale; the highest seen is ${highestToken}`)
  }
}

/** True when `err` is a LeaseError, optionally with the given code. */
export function isLeaseError(err: unknown, code?: LeaseErrorCode): err is LeaseError {
  return err instanceof LeaseError && (code === undefined || err.code === code)
}
