import { CodedError } from '@troupe/runtime/errors'

/** Stable codes of the operating failures @troupe/saga reports. */
export const SagaErrorCode = {
  /** A definition breaks the DSL's rules (duplicate step, a compensatable step after a pivot, ...). */
  INVALID_DEFINITION: 'INVALID_DEFINITION',
  /** Bad input to an API call (an empty id, a negative timeout, a value CBOR cannot carry). */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** The log names a saga definition that is not registered with this coordinator. */
  UNKNOWN_SAGA: 'UNKNOWN_SAGA',
  /** No saga (or transaction) with this id in the log (never started, or forgotten after retention). */
  SAGA_NOT_FOUND: 'SAGA_NOT_FOUND',
  /** `run` with an id that already belongs to a saga of another definition or with other input. */
  SAGA_ID_CONFLICT: 'SAGA_ID_CONFLICT',
  /** A compare-and-append lost: another writer appended to this saga first. */
  LOG_CONFLICT: 'LOG_CONFLICT',
  /** The log could not confirm an append in time (no leader, no quorum); it may still apply. Retry the same append. */
  LOG_UNAVAILABLE: 'LOG_UNAVAILABLE',
  /** The durable log failed (disk error, closed, group stopped): nothing more can be recorded here. */
  LOG_FAILED: 'LOG_FAILED',
  /** A step call (or an undo) did not settle within its `timeoutMs`; it may still have taken effect. */
  STEP_TIMEOUT: 'STEP_TIMEOUT',
  /** A participant refused a key it has already compensated (a `do` that arrived after its `undo`). */
  STEP_REJECTED: 'STEP_REJECTED',
  /** Another coordinator took this saga over; this one stopped driving it. */
  SAGA_FENCED: 'SAGA_FENCED',
  /** The operation is not valid in the saga's current state (e.g. `retry` of a saga that is not stuck). */
  BAD_STATE: 'BAD_STATE',
  /** More sagas are active on this coordinator than `maxActiveSagas`. */
  OVERLOADED: 'OVERLOADED',
  /** `wait` gave up after its `timeoutMs`; the saga goes on. */
  WAIT_TIMEOUT: 'WAIT_TIMEOUT',
  /** The coordinator was closed. */
  CLOSED: 'CLOSED',
} as const

export type SagaErrorCode = (typeof SagaErrorCode)[keyof typeof SagaErrorCode]

/** Failures after which the same call may succeed: the log was briefly unavailable, a step or a wait ran out of time, or the coordinator was full. */
const RETRYABLE: ReadonlySet<string> = new Set<SagaErrorCode>(['LOG_UNAVAILABLE', 'STEP_TIMEOUT', 'WAIT_TIMEOUT', 'OVERLOADED'])

/** An operating failure of the saga package, with a stable `code` and whether a retry may help. */
export class SagaError extends CodedError<SagaErrorCode> {
  override readonly name: string = 'SagaError'
  constructor(code: SagaErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(code, message, options, RETRYABLE)
  }
}

/** True when `err` is a SagaError, optionally with the given code. */
export function isSagaError(err: unknown, code?: SagaErrorCode): err is SagaError {
  return err instanceof SagaError && (code === undefined || err.code === code)
}
