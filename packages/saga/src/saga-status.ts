import type { ErrorInfo, FailureCause, SagaRecord } from './records.js'

export type SagaState = 'running' | 'compensating' | 'completed' | 'compensated' | 'stuck'

export interface StepStatus {
  /** Forward call: scheduled (no outcome recorded yet), retrying, succeeded, failed (for good). */
  status: 'scheduled' | 'retrying' | 'succeeded' | 'failed'
  /** Highest recorded attempt. */
  attempts: number
  lastError?: ErrorInfo
  /** Its undo, once the saga compensates it. */
  compensation?: 'pending' | 'scheduled' | 'retrying' | 'succeeded' | 'failed'
}

/** A saga as its history describes it; any node can compute it from the log. */
export interface SagaStatus {
  id: string
  saga: string
  state: SagaState
  input: unknown
  /** The node whose coordinator last started or resumed it. */
  owner: string
  startedAtMs: number
  updatedAtMs: number
  /** Steps that were ever scheduled, by name. */
  steps: Record<string, StepStatus>
  /** Results of the steps that succeeded. */
  results: Record<string, unknown>
  /** Why it compensates (or compensated, or got stuck). */
  cause?: FailureCause
  /** The compensation that failed past its policy. */
  stuck?: { step: string; error: ErrorInfo }
  records: number
}

/** How a finished saga ended, as `run` and `wait` report it. */
export type SagaResult<Results = Record<string, unknown>> =
  | { status: 'completed'; id: string; results: Results }
  | { status: 'compensated'; id: string; cause: FailureCause }
  | { status: 'stuck'; id: string; step: string; error: ErrorInfo; cause: FailureCause }

/** Folds a saga history into its status; null for a history that is not a saga's (a two-phase transaction). */
export function describeHistory(id: string, history: readonly SagaRecord[]): SagaStatus | null {
  const first = history[0]
  if (first?.type !== 'SagaStarted') return null
  const status: SagaStatus = {
    id,
    saga: first.saga,
    state: 'running',
    input: first.input,
    owner: first.owner,
    startedAtMs: first.atMs,
    updatedAtMs: first.atMs,
    steps: {},
    results: {},
    records: history.length,
  }
  const step = (name: string): StepStatus => (status.steps[name] ??= { status: 'scheduled', attempts: 0 })
  for (const r of history) {
    status.updatedAtMs = r.atMs
    switch (r.type) {
      case 'SagaResumed':
        status.owner = r.owner
        if (r.reason === 'retry' && status.state === 'stuck') {
          status.state = 'compensating'
          delete status.stuck
        }
        break
      case 'StepScheduled':
        step(r.step).status = 'scheduled'
        step(r.step).attempts = Math.max(step(r.step).attempts, r.attempt)
        break
      case 'StepSucceeded':
        step(r.step).status = 'succeeded'
        step(r.step).attempts = Math.max(step(r.step).attempts, r.attempt)
        status.results[r.step] = r.result
        break
      case 'StepFailed':
        step(r.step).status = r.final ? 'failed' : 'retrying'
        step(r.step).lastError = r.error
        break
      case 'CompensationStarted':
        status.state = 'compensating'
        status.cause = r.cause
        for (const name of r.order) step(name).compensation = 'pending'
        break
      case 'CompensationScheduled':
        step(r.step).compensation = 'scheduled'
        break
      case 'CompensationSucceeded':
        step(r.step).compensation = 'succeeded'
        break
      case 'CompensationFailed':
        step(r.step).compensation = r.final ? 'failed' : 'retrying'
        step(r.step).lastError = r.error
        break
      case 'SagaCompleted':
        status.state = 'completed'
        break
      case 'SagaCompensated':
        status.state = 'compensated'
        break
      case 'SagaStuck':
        status.state = 'stuck'
        status.stuck = { step: r.step, error: r.error }
        break
      default:
        break
    }
  }
  return status
}

/** The result of a finished saga, or null while it runs. */
export function resultOf(status: SagaStatus): SagaResult | null {
  switch (status.state) {
    case 'completed':
      return { status: 'completed', id: status.id, results: status.results }
    case 'compensated':
      return { status: 'compensated', id: status.id, cause: status.cause! }
    case 'stuck':
      return { status: 'stuck', id: status.id, step: status.stuck!.step, error: status.stuck!.error, cause: status.cause! }
    default:
      return null
  }
}
