/**
 * The transitions a saga (or a two-phase transaction) records in its log,
 * one history per id, append-only. The orchestrator writes each record
 * before acting on it, so the history alone tells a new coordinator what was
 * scheduled, what finished and what is still owed.
 */

/** An error as the log keeps it: enough to report and classify, nothing that needs its class. */
export interface ErrorInfo {
  name: string
  message: string
  /** The error's `code` when it had a string one (TroupeError, SagaError, user errors). */
  code?: string
}

/** The failure that made a saga compensate. */
export interface FailureCause {
  step: string
  error: ErrorInfo
}

/** Where a two-phase participant lives (refs are rebuilt from it after a restart). */
export interface TxParticipantAddress {
  node: string
  path: string
}

export type SagaRecordBody =
  | { type: 'SagaStarted'; saga: string; input: unknown; owner: string }
  /** A coordinator (re)took the saga: after a restart, a failover, or an operator's `retry`. */
  | { type: 'SagaResumed'; owner: string; reason: 'recovery' | 'takeover' | 'retry' }
  /** Written before the step's `do` is called (once per attempt, for the first `recordedAttemptsMax` attempts). */
  | { type: 'StepScheduled'; step: string; attempt: number }
  | { type: 'StepSucceeded'; step: string; attempt: number; result: unknown }
  /** `final`: the step will not be tried again (non-retryable error or retries used up). */
  | { type: 'StepFailed'; step: string; attempt: number; error: ErrorInfo; final: boolean }
  /** The saga turns back; `order` is the steps it will undo, first to last. */
  | { type: 'CompensationStarted'; cause: FailureCause; order: string[] }
  | { type: 'CompensationScheduled'; step: string; attempt: number }
  | { type: 'CompensationSucceeded'; step: string; attempt: number }
  | { type: 'CompensationFailed'; step: string; attempt: number; error: ErrorInfo; final: boolean }
  | { type: 'SagaCompleted' }
  | { type: 'SagaCompensated'; cause: FailureCause }
  /** A compensation failed past its policy: the saga is neither done nor undone. Needs an operator. */
  | { type: 'SagaStuck'; step: string; error: ErrorInfo; cause: FailureCause }
  /** Two-phase commit: the decision (written once per transaction; the first one wins). */
  | { type: 'TxDecided'; outcome: 'commit' | 'abort'; participants: TxParticipantAddress[] }
  /** Two-phase commit: every participant has the decision; the transaction can be forgotten. */
  | { type: 'TxEnded' }

/** A record as stored: the body, when it was written (the writer's clock) and by whom. */
export type SagaRecord = SagaRecordBody & {
  atMs: number
  /** The writing coordinator: `<node>#<nonce>`, unique per coordinator instance. */
  by: string
}

export type SagaRecordType = SagaRecord['type']

const terminal: ReadonlySet<SagaRecordType> = new Set(['SagaCompleted', 'SagaCompensated', 'SagaStuck', 'TxEnded'])

/** A history whose last record ends it: nothing runs it until someone appends again (`retry`). */
export function isFinished(history: readonly SagaRecord[]): boolean {
  const last = history[history.length - 1]
  return last !== undefined && terminal.has(last.type)
}

/** The error as the log keeps it. */
export function errorInfo(err: unknown): ErrorInfo {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return typeof code === 'string' ? { name: err.name, message: err.message, code } : { name: err.name, message: err.message }
  }
  return { name: 'Error', message: typeof err === 'string' ? err : safeString(err) }
}

function safeString(value: unknown): string {
  try {
    return String(value)
  } catch {
    return 'unprintable error'
  }
}
