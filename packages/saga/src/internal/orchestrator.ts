import type { ActorContext, ActorDef } from '@troupe/runtime'
import { defineActor } from '@troupe/runtime'
import type { ErrorMatcher, SagaPlan, StepPlan } from '../definition.js'
import { isSagaError, SagaError } from '../errors.js'
import { roundTrip } from '../log/record-codec.js'
import type { SagaLog } from '../log/saga-log.js'
import type { SagaRecord } from '../records.js'
import { errorInfo } from '../records.js'
import type { ResolvedRetryPolicy } from '../retry-policy.js'
import { retryDelayMs, spreadDelayMs } from '../retry-policy.js'
import type { SagaEvent } from '../saga-events.js'
import { appendDurably } from './durable-append.js'
import type { Call, CallOutcome, CallPhase } from './saga-machine.js'
import { SagaMachine } from './saga-machine.js'

/** What an orchestrator needs from its coordinator. */
export interface OrchestratorEnv {
  id: string
  plan: SagaPlan
  /** The durable history so far; the coordinator has already appended SagaStarted or SagaResumed. */
  history: SagaRecord[]
  /**
   * A machine already at the end of `history` with `calls` announced by its
   * last (durable) records and not started yet: the coordinator's first
   * batch, appended together with SagaStarted.
   */
  started?: { machine: SagaMachine; calls: Call[] }
  log: SagaLog
  /** `<node>#<nonce>` of the coordinator: the `by` of every record. */
  writer: string
  logRetry: ResolvedRetryPolicy
  closed(): boolean
  /**
   * The coordinator is shutting down: record what settles, start no new
   * call or retry, and report `parked` once no call is in flight.
   */
  draining(): boolean
  /** Draining, and no call of this saga is in flight: its history is complete up to here. */
  parked(): void
  emit(event: SagaEvent): void
  /** The saga reached completed, compensated or stuck. */
  finished(machine: SagaMachine): void
  /** Another writer appended: stop driving. */
  fenced(): void
  /** The log failed (or a bug): stop driving. */
  failed(err: unknown): void
}

interface CallRef {
  phase: CallPhase
  step: string
  attempt: number
}

type Settled = CallRef & ({ ok: true; result: unknown } | { ok: false; error: unknown })

/**
 * One saga instance as an actor. Turn-based: each message (a call settled,
 * a call timed out, a backoff passed) updates the pure machine, then the
 * driver appends what the machine wants recorded, durably, before it starts
 * the calls those records announce.
 */
export function orchestratorDef(env: OrchestratorEnv): ActorDef<any, Driver> {
  return defineActor({
    name: 'saga-orchestrator',
    initial: () => new Driver(env),
    handlers: {
      settled: (d: Driver, msg: Settled, ctx) => d.onSettled(msg, ctx),
      timedOut: (d: Driver, msg: CallRef, ctx) => d.onTimedOut(msg, ctx),
      retryDue: (d: Driver, msg: { phase: CallPhase; step: string }, ctx) => d.onRetryDue(msg, ctx),
      drain: (d: Driver) => d.onDrain(),
    },
    onStart: (d, ctx) => d.start(ctx),
    onStop: (d) => d.stop(),
    supervision: { onFailure: 'stop' },
  })
}

/** @internal */
export class Driver {
  private readonly machine: SagaMachine
  private readonly controllers = new Map<string, AbortController>()
  private stopped = false

  constructor(private readonly env: OrchestratorEnv) {
    if (env.started) {
      this.machine = env.started.machine
    } else {
      this.machine = new SagaMachine(env.plan, retryDelayMs)
      for (const record of env.history) this.machine.apply(record, false)
    }
  }

  async start(ctx: ActorContext<any>): Promise<void> {
    if (this.machine.finished) return this.finish(ctx)
    // Announced with SagaStarted; while draining they stay announced, for recover() to start elsewhere.
    if (!this.env.draining()) for (const call of this.env.started?.calls ?? []) this.dispatch(call, ctx)
    await this.pump(ctx)
  }

  /** The coordinator started draining: report at once if nothing is in flight (else once the last call settled). */
  onDrain(): void {
    if (!this.stopped && this.controllers.size === 0) this.env.parked()
  }

  async onSettled(msg: Settled, ctx: ActorContext<any>): Promise<void> {
    if (this.stopped) return
    const outcome = msg.ok ? this.successOutcome(msg.result) : this.failureOutcome(msg.step, msg.error)
    if (!this.machine.settle(msg.phase, msg.step, msg.attempt, outcome)) return
    ctx.timers.cancel(`timeout:${msg.phase}:${msg.step}`)
    this.controllers.delete(`${msg.phase}:${msg.step}`)
    await this.pump(ctx)
  }

  async onTimedOut(msg: CallRef, ctx: ActorContext<any>): Promise<void> {
    if (this.stopped) return
    const timeoutMs = msg.phase === 'do' ? this.planOf(msg.step).timeoutMs : this.env.plan.compensationTimeoutMs
    const error = new SagaError('STEP_TIMEOUT', `${msg.phase === 'do' ? 'step' : 'undo of'} ${msg.step} (attempt ${msg.attempt}) did not settle within ${timeoutMs} ms`)
    if (!this.machine.settle(msg.phase, msg.step, msg.attempt, { ok: false, error: errorInfo(error), retryable: true })) return
    const key = `${msg.phase}:${msg.step}`
    this.controllers.get(key)?.abort(error)
    this.controllers.delete(key)
    await this.pump(ctx)
  }

  async onRetryDue(msg: { phase: CallPhase; step: string }, ctx: ActorContext<any>): Promise<void> {
    // Draining: the retry is left to whoever recovers the saga.
    if (this.stopped || this.env.draining()) return
    this.machine.retryDue(msg.phase, msg.step)
    await this.pump(ctx)
  }

  stop(): void {
    this.stopped = true
    for (const ac of this.controllers.values()) ac.abort(new SagaError('CLOSED', 'the saga coordinator stopped'))
    this.controllers.clear()
  }

  /** Records what the machine decided, then starts the calls it announced; stops the actor once the saga finished. */
  private async pump(ctx: ActorContext<any>): Promise<void> {
    if (this.stopped || this.env.closed()) return
    const batch = this.machine.next()
    if (!this.env.draining()) {
      for (const t of batch.timers) {
        ctx.timers.startSingle(`retry:${t.phase}:${t.step}`, spreadDelayMs(t.delayMs, ctx.system.random), 'retryDue', { phase: t.phase, step: t.step })
      }
    }
    if (batch.records.length > 0) {
      const atMs = ctx.system.clock.now()
      const records = batch.records.map((body) => ({ ...body, atMs, by: this.env.writer }) as SagaRecord)
      if (!(await this.record(records, batch.seq, ctx))) return
      for (const record of records) this.env.emit({ type: 'record', sagaId: this.env.id, saga: this.env.plan.name, record })
    }
    // Draining (also if it began during the append): what the records announce is left for recover().
    if (this.env.draining() && !this.machine.finished) {
      if (this.controllers.size === 0) this.env.parked()
      return
    }
    for (const call of batch.calls) this.dispatch(call, ctx)
    if (this.machine.finished) this.finish(ctx)
  }

  /** Appends durably; false (and the actor stops) when fenced or the log failed. */
  private async record(records: SagaRecord[], seq: number, ctx: ActorContext<any>): Promise<boolean> {
    const env = this.env
    try {
      const outcome = await appendDurably(
        { log: env.log, clock: ctx.system.clock, retry: env.logRetry, closed: () => this.stopped || env.closed() },
        { id: env.id, seq, records },
      )
      if (outcome === 'ok') return true
      this.halt(ctx)
      env.fenced()
    } catch (err) {
      this.halt(ctx)
      if (!isSagaError(err, 'CLOSED')) env.failed(err)
    }
    return false
  }

  private finish(ctx: ActorContext<any>): void {
    this.halt(ctx)
    this.env.finished(this.machine)
  }

  private halt(ctx: ActorContext<any>): void {
    this.stop()
    ctx.timers.cancelAll()
    ctx.stop()
  }

  private dispatch(call: Call, ctx: ActorContext<any>): void {
    const { phase, step, attempt } = call
    const p = this.planOf(step)
    const key = `${phase}:${step}`
    const ac = new AbortController()
    this.controllers.get(key)?.abort()
    this.controllers.set(key, ac)
    ctx.timers.startSingle(`timeout:${key}`, phase === 'do' ? p.timeoutMs : this.env.plan.compensationTimeoutMs, 'timedOut', { phase, step, attempt })
    const base = {
      sagaId: this.env.id,
      saga: this.env.plan.name,
      step,
      idempotencyKey: `${this.env.id}/${step}`,
      attempt,
      signal: ac.signal,
      results: Object.freeze(this.machine.results()),
    }
    const self = ctx.self
    let promise: Promise<unknown>
    try {
      promise = Promise.resolve(phase === 'do' ? p.run(this.machine.input, base) : p.undo!(this.machine.input, { ...base, ...this.machine.forwardOf(step) }))
    } catch (err) {
      promise = Promise.reject(err)
    }
    promise.then(
      (result) => self.tell('settled', { phase, step, attempt, ok: true, result }),
      (error) => self.tell('settled', { phase, step, attempt, ok: false, error }),
    )
  }

  private successOutcome(result: unknown): CallOutcome {
    try {
      return { ok: true, result: roundTrip(result) }
    } catch (err) {
      const error = new SagaError('INVALID_ARGUMENT', `the step's result cannot be recorded (not CBOR-encodable): ${(err as Error).message}`)
      return { ok: false, error: errorInfo(error), retryable: false }
    }
  }

  /** Non-retryable: a participant's STEP_REJECTED, and errors the definition names (for undos too: the saga is then stuck at once). */
  private failureOutcome(step: string, error: unknown): CallOutcome {
    const p = this.planOf(step)
    const retryable = !(isSagaError(error, 'STEP_REJECTED') || matchesAny([...p.nonRetryable, ...this.env.plan.nonRetryable], error))
    return { ok: false, error: errorInfo(error), retryable }
  }

  private planOf(step: string): StepPlan {
    const p = this.env.plan.steps.get(step)
    if (!p) throw new SagaError('UNKNOWN_SAGA', `saga ${this.env.plan.name} has no step '${step}'`)
    return p
  }
}

function matchesAny(matchers: readonly ErrorMatcher[], err: unknown): boolean {
  return matchers.some((m) => (isErrorClass(m) ? err instanceof m : (m as (e: unknown) => boolean)(err)))
}

function isErrorClass(m: ErrorMatcher): m is abstract new (...args: any[]) => unknown {
  const proto = (m as { prototype?: unknown }).prototype
  if (proto === undefined) return false
  return m === Error || proto instanceof Error || /^class[\s{]/.test(Function.prototype.toString.call(m))
}
