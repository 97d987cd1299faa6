import { InvariantError } from '@troupe/runtime/errors'
import type { SagaPlan, StepPlan } from '../definition.js'
import type { ErrorInfo, FailureCause, SagaRecord, SagaRecordBody } from '../records.js'
import type { RetryDelay } from '../retry-policy.js'

/**
 * Tries beyond this many are not recorded one by one (a retriable step
 * retried forever would grow its history without bound); the first dispatch
 * and the final outcome always are.
 */
export const recordedAttemptsMax = 16

export type SagaPhase = 'new' | 'forward' | 'compensating' | 'completed' | 'compensated' | 'stuck'
export type CallPhase = 'do' | 'undo'

/** How one call ended, as the driver saw it. `retryable` is false for errors the definition names non-retryable. */
export type CallOutcome = { ok: true; result: unknown } | { ok: false; error: ErrorInfo; retryable: boolean }

/** A call to start: the step's `do` (or `undo`); report with `settle`. */
export interface Call {
  phase: CallPhase
  step: string
  attempt: number
}

/** A backoff to wait: call `retryDue` after `delayMs`. */
export interface RetryTimer {
  phase: CallPhase
  step: string
  delayMs: number
}

/**
 * What to do next. `records` are already applied to the machine: append them
 * (at `seq`) and only once they are durable start `calls`. If the append
 * fails the driver must stop (a fresh machine replays the log).
 */
export interface Batch {
  seq: number
  records: SagaRecordBody[]
  calls: Call[]
  timers: RetryTimer[]
}

interface CallState {
  /** Durable part: from the history. */
  status: 'idle' | 'scheduled' | 'retrying' | 'succeeded' | 'failed'
  /** Last dispatched attempt (1-based). */
  attempt: number
  failures: number
  /** Failures whose outcome is unknown (timeouts): a pivot does not count them against its attempts. */
  ambiguousFailures: number
  lastError: ErrorInfo | null
  /** Volatile part: this incarnation only. */
  inflight: boolean
  timerArmed: boolean
  retryReady: boolean
}

interface StepState extends CallState {
  result: unknown
  /** Index in the history of the first StepScheduled, and of StepSucceeded (-1: none). */
  scheduledAt: number
  completedAt: number
}

/** Errors that leave the step's effect unknown: the call may have applied. */
export function isAmbiguous(error: ErrorInfo): boolean {
  return error.code === 'STEP_TIMEOUT' || error.code === 'ASK_TIMEOUT'
}

function callState(): CallState {
  return { status: 'idle', attempt: 0, failures: 0, ambiguousFailures: 0, lastError: null, inflight: false, timerArmed: false, retryReady: false }
}

/**
 * The saga algorithm with no I/O: records in (the log, replayed in order),
 * batches out (records to append, calls to start once they are durable,
 * timers to arm). A call is only ever announced by a record in the same or
 * an earlier batch, so every call has its StepScheduled (or
 * CompensationScheduled) in the log before it starts. One batch carries an
 * outcome and the decisions it leads to (StepSucceeded of one step and
 * StepScheduled of the next), so a sequential step costs one append.
 */
export class SagaMachine {
  phase: SagaPhase = 'new'
  input: unknown = undefined
  owner = ''
  cause: FailureCause | null = null
  order: string[] = []
  stuck: { step: string; error: ErrorInfo } | null = null
  /** Records applied so far (the length of the history). */
  length = 0
  private firstFailure: FailureCause | null = null
  private readonly steps = new Map<string, StepState>()
  private readonly comps = new Map<string, CallState>()
  /** Outcomes waiting to be recorded before anything acts on them. */
  private pending: SagaRecordBody[] = []

  constructor(
    readonly plan: SagaPlan,
    /** The backoff before a retry (`retryDelayMs`), passed in so the machine loads no runtime. */
    private readonly retryDelayMs: RetryDelay,
  ) {
    for (const s of plan.steps.values()) this.steps.set(s.name, { ...callState(), result: undefined, scheduledAt: -1, completedAt: -1 })
  }

  /** True once the saga is completed, compensated or stuck. */
  get finished(): boolean {
    return this.phase === 'completed' || this.phase === 'compensated' || this.phase === 'stuck'
  }

  /** Results of the steps that succeeded, by name. */
  results(): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const [name, s] of this.steps) if (s.status === 'succeeded') out[name] = s.result
    return out
  }

  /** What an undo learns about its step's forward call. */
  forwardOf(step: string): { forward: 'succeeded' | 'unknown'; result: unknown } {
    const s = this.stepState(step)
    return s.status === 'succeeded' ? { forward: 'succeeded', result: s.result } : { forward: 'unknown', result: undefined }
  }

  /** Applies one record of the history. `live`: it was just appended by this driver (so its call starts now). */
  apply(record: SagaRecord | SagaRecordBody, live: boolean): Call[] {
    const at = this.length++
    switch (record.type) {
      case 'SagaStarted':
        if (this.phase !== 'new') throw new InvariantError(`SagaStarted at index ${at} of a saga in phase ${this.phase}`)
        this.phase = 'forward'
        this.input = record.input
        this.owner = record.owner
        return []
      case 'SagaResumed':
        this.owner = record.owner
        if (record.reason === 'retry' && this.phase === 'stuck' && this.stuck) this.unstick(this.stuck.step)
        return []
      case 'StepScheduled': {
        const s = this.stepState(record.step)
        s.status = 'scheduled'
        s.attempt = record.attempt
        if (s.scheduledAt < 0) s.scheduledAt = at
        return live ? this.startCall(s, 'do', record.step, record.attempt) : []
      }
      case 'StepSucceeded': {
        const s = this.stepState(record.step)
        s.status = 'succeeded'
        s.result = record.result
        s.completedAt = at
        s.attempt = Math.max(s.attempt, record.attempt)
        return []
      }
      case 'StepFailed': {
        const s = this.stepState(record.step)
        this.countFailure(s, record.error, record.attempt)
        s.status = record.final ? 'failed' : 'retrying'
        if (record.final) this.firstFailure ??= { step: record.step, error: record.error }
        return []
      }
      case 'CompensationStarted':
        this.phase = 'compensating'
        this.cause = record.cause
        this.order = [...record.order]
        for (const name of this.order) this.comps.set(name, callState())
        return []
      case 'CompensationScheduled': {
        const c = this.compState(record.step)
        c.status = 'scheduled'
        c.attempt = record.attempt
        return live ? this.startCall(c, 'undo', record.step, record.attempt) : []
      }
      case 'CompensationSucceeded':
        this.compState(record.step).status = 'succeeded'
        return []
      case 'CompensationFailed': {
        const c = this.compState(record.step)
        this.countFailure(c, record.error, record.attempt)
        c.status = record.final ? 'failed' : 'retrying'
        return []
      }
      case 'SagaCompleted':
        this.phase = 'completed'
        return []
      case 'SagaCompensated':
        this.phase = 'compensated'
        return []
      case 'SagaStuck':
        this.phase = 'stuck'
        this.stuck = { step: record.step, error: record.error }
        return []
      case 'TxDecided':
      case 'TxEnded':
        throw new InvariantError(`a saga history holds a two-phase record (${record.type}) at index ${at}`)
    }
  }

  /**
   * A call finished (or timed out). Returns false for a stale report (an
   * older attempt, a call no longer in flight), which changes nothing.
   */
  settle(phase: CallPhase, step: string, attempt: number, outcome: CallOutcome): boolean {
    const s = phase === 'do' ? this.steps.get(step) : this.comps.get(step)
    if (!s || !s.inflight || s.attempt !== attempt) return false
    s.inflight = false
    if (outcome.ok) {
      this.pending.push(phase === 'do' ? { type: 'StepSucceeded', step, attempt, result: outcome.result } : { type: 'CompensationSucceeded', step, attempt })
      return true
    }
    const final = this.isFinal(phase, step, s, outcome)
    if (final || attempt <= recordedAttemptsMax) {
      const error = outcome.error
      this.pending.push(phase === 'do' ? { type: 'StepFailed', step, attempt, error, final } : { type: 'CompensationFailed', step, attempt, error, final })
      return true
    }
    // A failure of an unrecorded try: retried like any other, but only this incarnation knows.
    this.countFailure(s, outcome.error, attempt)
    s.status = 'retrying'
    return true
  }

  /** The backoff before the next try of `step` has passed. */
  retryDue(phase: CallPhase, step: string): void {
    const s = phase === 'do' ? this.steps.get(step) : this.comps.get(step)
    if (!s || !s.timerArmed) return
    s.timerArmed = false
    s.retryReady = true
  }

  /**
   * What to do next: the outcomes waiting to be recorded and every decision
   * they lead to, as one batch of records (applied here already), with the
   * calls those records announce and the backoff timers to arm.
   */
  next(): Batch {
    const batch: Batch = { seq: this.length, records: [], calls: [], timers: [] }
    // Each round applies records that can only make further decisions possible; a definition has finitely many.
    for (let round = 0; round < 10_000; round++) {
      const records = this.pending.length > 0 ? this.pending.splice(0) : this.decide(batch)
      if (records.length === 0) return batch
      for (const r of records) {
        batch.records.push(r)
        batch.calls.push(...this.apply(r, true))
      }
    }
    throw new InvariantError(`saga ${this.plan.name}: decisions did not settle`)
  }

  /** Steps with a call in flight in this incarnation. */
  inflight(): string[] {
    const out: string[] = []
    for (const [name, s] of this.steps) if (s.inflight) out.push(`do:${name}`)
    for (const [name, c] of this.comps) if (c.inflight) out.push(`undo:${name}`)
    return out
  }

  /** New records for the current phase (timers and unrecorded calls go straight into the batch). */
  private decide(batch: Batch): SagaRecordBody[] {
    if (this.phase === 'forward') return this.decideForward(batch)
    if (this.phase === 'compensating') return this.decideCompensation(batch)
    return []
  }

  private decideForward(batch: Batch): SagaRecordBody[] {
    if (this.firstFailure) {
      if ([...this.steps.values()].some((s) => s.inflight)) return []
      return [{ type: 'CompensationStarted', cause: this.firstFailure, order: this.compensationOrder() }]
    }
    const stage = this.plan.stages.find((st) => st.some((p) => this.stepState(p.name).status !== 'succeeded'))
    if (!stage) return [{ type: 'SagaCompleted' }]
    const records: SagaRecordBody[] = []
    for (const p of stage) {
      const s = this.stepState(p.name)
      if (s.inflight || s.status === 'succeeded') continue
      this.dispatchOrWait(s, 'do', p, p.retry, records, batch)
    }
    return records
  }

  private decideCompensation(batch: Batch): SagaRecordBody[] {
    const cause = this.cause
    if (!cause) throw new InvariantError('compensating without a cause')
    for (const name of this.order) {
      const c = this.compState(name)
      if (c.status === 'succeeded') continue
      if (c.inflight) return []
      if (c.status === 'failed') return [{ type: 'SagaStuck', step: name, error: c.lastError ?? { name: 'Error', message: 'unknown' }, cause }]
      const records: SagaRecordBody[] = []
      this.dispatchOrWait(c, 'undo', this.planOf(name), this.plan.compensation, records, batch)
      return records
    }
    return [{ type: 'SagaCompensated', cause }]
  }

  /** Schedules the next try of a call that is not in flight, or arms its backoff timer. */
  private dispatchOrWait(s: CallState, phase: CallPhase, p: StepPlan, policy: SagaPlan['compensation'], records: SagaRecordBody[], batch: Batch): void {
    if (s.status === 'retrying' && !s.retryReady) {
      if (!s.timerArmed) {
        s.timerArmed = true
        batch.timers.push({ phase, step: p.name, delayMs: this.retryDelayMs(policy, s.failures) })
      }
      return
    }
    s.retryReady = false
    const attempt = s.attempt + 1
    if (attempt <= recordedAttemptsMax) {
      records.push(phase === 'do' ? { type: 'StepScheduled', step: p.name, attempt } : { type: 'CompensationScheduled', step: p.name, attempt })
      return
    }
    s.status = 'scheduled'
    batch.calls.push(...this.startCall(s, phase, p.name, attempt))
  }

  private startCall(s: CallState, phase: CallPhase, step: string, attempt: number): Call[] {
    s.attempt = attempt
    s.inflight = true
    s.timerArmed = false
    s.retryReady = false
    return [{ phase, step, attempt }]
  }

  private isFinal(phase: CallPhase, step: string, s: CallState, outcome: { error: ErrorInfo; retryable: boolean }): boolean {
    if (phase === 'undo') return !outcome.retryable || s.failures + 1 >= this.plan.compensation.attempts
    const p = this.planOf(step)
    if (p.kind === 'retriable') return false
    const ambiguous = isAmbiguous(outcome.error)
    if (p.kind === 'pivot' && ambiguous) return false
    if (!outcome.retryable) return true
    const counted = p.kind === 'pivot' ? s.failures - s.ambiguousFailures + 1 : s.failures + 1
    return counted >= p.retry.attempts
  }

  private countFailure(s: CallState, error: ErrorInfo, attempt: number): void {
    s.failures++
    if (isAmbiguous(error)) s.ambiguousFailures++
    s.lastError = error
    s.attempt = Math.max(s.attempt, attempt)
  }

  /**
   * Steps to undo, first to last: those whose outcome is unknown (scheduled,
   * not succeeded; latest scheduled first), then those that succeeded in
   * reverse order of completion. Steps never scheduled, and steps without
   * an undo (pivots, retriable steps, checks), are left out.
   */
  private compensationOrder(): string[] {
    const candidates = [...this.steps.entries()].filter(([name, s]) => s.status !== 'idle' && this.planOf(name).hasUndo)
    const unknown = candidates.filter(([, s]) => s.status !== 'succeeded').sort((a, b) => b[1].scheduledAt - a[1].scheduledAt)
    const done = candidates.filter(([, s]) => s.status === 'succeeded').sort((a, b) => b[1].completedAt - a[1].completedAt)
    return [...unknown, ...done].map(([name]) => name)
  }

  private unstick(step: string): void {
    const c = this.compState(step)
    c.status = 'retrying'
    c.failures = 0
    c.ambiguousFailures = 0
    c.retryReady = true
    this.phase = 'compensating'
    this.stuck = null
  }

  private stepState(step: string): StepState {
    const s = this.steps.get(step)
    if (!s) throw new InvariantError(`saga ${this.plan.name} has no step '${step}' (the log and the definition disagree)`)
    return s
  }

  private compState(step: string): CallState {
    const c = this.comps.get(step)
    if (!c) throw new InvariantError(`step '${step}' is not in the compensation order of saga ${this.plan.name}`)
    return c
  }

  private planOf(step: string): StepPlan {
    const p = this.plan.steps.get(step)
    if (!p) throw new InvariantError(`saga ${this.plan.name} has no step '${step}'`)
    return p
  }
}
