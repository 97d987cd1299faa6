import { SagaError } from './errors.js'
import type { RetryPolicy } from './retry-policy.js'
import { checkTimeout, defaultCompensationRetry, defaultStepRetry, defaultStepTimeoutMs, foreverRetry, resolveRetry } from './retry-policy.js'
import type { ResolvedRetryPolicy } from './retry-policy.js'

/**
 * - `compensatable`: has (or needs no) `undo`; a failure before the saga is
 *   committed undoes it.
 * - `pivot`: the point of no return, no `undo`. Once it succeeds, the saga
 *   only goes forward. Its failure must be definite: a timeout is retried
 *   until the pivot answers.
 * - `retriable`: comes after the pivot (or after the last compensatable
 *   step); must eventually succeed, so it is retried forever with backoff.
 */
export type StepKind = 'compensatable' | 'pivot' | 'retriable'

/** What a step's `do` gets besides the saga input. */
export interface StepContext<Results = Record<string, unknown>> {
  readonly sagaId: string
  /** The definition's name. */
  readonly saga: string
  readonly step: string
  /**
   * `${sagaId}/${step}`: the same for every attempt, after a crash and on
   * another node, and the same for the step's `undo`. Participants
   * deduplicate on it (see `IdempotencyStore`).
   */
  readonly idempotencyKey: string
  /** 1 for the first call, +1 per dispatch (retries and re-dispatch after recovery). Not part of the key. */
  readonly attempt: number
  /** Aborted when the call timed out, or the saga's coordinator stopped. */
  readonly signal: AbortSignal
  /** Results of the steps that finished before this one's stage. */
  readonly results: Readonly<Results>
}

/** What an `undo` gets. */
export interface UndoContext<Results = Record<string, unknown>, R = unknown> extends StepContext<Results> {
  /**
   * 'succeeded' when the step's `do` returned (`result` holds its value);
   * 'unknown' when it failed or timed out: it may or may not have applied, so
   * the undo must tolerate a `do` that never happened (and one that comes later).
   */
  readonly forward: 'succeeded' | 'unknown'
  readonly result: R | undefined
}

/** An error class, or a predicate: errors it matches fail the step at once, without retries. */
export type ErrorMatcher = (abstract new (...args: any[]) => unknown) | ((err: unknown) => boolean)

export interface StepSpec<I, Rs, R> {
  do(input: I, ctx: StepContext<Rs>): R | Promise<R>
  undo?(input: I, ctx: UndoContext<Rs, Awaited<R>>): unknown
  /** Default 'compensatable'. */
  kind?: StepKind
  /** Default 3 attempts, 100 ms backoff doubling to 5 s. Retriable steps always retry forever. */
  retry?: RetryPolicy
  /** Per call; default 10 s. A timed-out call counts as a (retryable) failure. */
  timeoutMs?: number
  /** Errors that fail this step at once (besides the saga's `nonRetryable`). */
  nonRetryable?: ErrorMatcher[]
}

/** Saga-wide settings. */
export interface SagaOptions {
  /** Errors that fail any step at once, without retries. */
  nonRetryable?: ErrorMatcher[]
  /** How undos are retried before the saga is declared stuck; default 10 attempts, 100 ms doubling to 10 s. */
  compensation?: RetryPolicy & { timeoutMs?: number }
}

/** @internal a step as the runtime sees it. */
export interface StepPlan {
  readonly name: string
  readonly kind: StepKind
  readonly stage: number
  readonly retry: ResolvedRetryPolicy
  readonly timeoutMs: number
  readonly hasUndo: boolean
  readonly run: (input: unknown, ctx: StepContext<any>) => unknown
  readonly undo: ((input: unknown, ctx: UndoContext<any, any>) => unknown) | null
  readonly nonRetryable: readonly ErrorMatcher[]
}

/** @internal the shape of a definition: stages of steps run in order, steps of a stage in parallel. */
export interface SagaPlan {
  readonly name: string
  readonly stages: readonly (readonly StepPlan[])[]
  readonly steps: ReadonlyMap<string, StepPlan>
  readonly compensation: ResolvedRetryPolicy
  readonly compensationTimeoutMs: number
  readonly nonRetryable: readonly ErrorMatcher[]
}

type ResultOfSpec<S> = S extends { do(...args: any[]): infer R } ? Awaited<R> : never
type Simplify<T> = { [K in keyof T]: T[K] } & {}

/**
 * A saga definition, built step by step; each call returns a new definition.
 * `Input` is what `run` takes; `Results` maps each step name to what its
 * `do` resolves to, so later steps see earlier results with their types.
 */
export class Saga<Input, Results extends object = {}> {
  /** @internal */
  readonly plan: SagaPlan
  /** Phantom: carries the input type. */
  declare readonly __input?: Input
  /** Phantom: carries the results type. */
  declare readonly __results?: Results

  /** @internal use `saga(name)`. */
  constructor(plan: SagaPlan) {
    this.plan = plan
  }

  get name(): string {
    return this.plan.name
  }

  /** Step names, stage by stage. */
  get stepNames(): string[][] {
    return this.plan.stages.map((stage) => stage.map((s) => s.name))
  }

  /** Adds a step that runs after every earlier one has succeeded. */
  step<N extends string, R>(name: N, spec: StepSpec<Input, Results, R>): Saga<Input, Simplify<Results & { [K in N]: Awaited<R> }>> {
    return new Saga(addStage(this.plan, [[name, spec as StepSpec<unknown, unknown, unknown>]]))
  }

  /**
   * Adds a group of steps that run at the same time, after every earlier
   * step has succeeded; the next step waits for all of them. If one fails
   * for good, the others finish their current call and everything scheduled
   * is compensated.
   */
  parallel<G extends Record<string, StepSpec<Input, Results, any>>>(steps: G): Saga<Input, Simplify<Results & { [K in keyof G]: ResultOfSpec<G[K]> }>> {
    const entries = Object.entries(steps) as [string, StepSpec<unknown, unknown, unknown>][]
    if (entries.length === 0) throw new SagaError('INVALID_DEFINITION', `saga ${this.plan.name}: a parallel group needs at least one step`)
    return new Saga(addStage(this.plan, entries))
  }

  /** Saga-wide settings (merged over earlier ones). */
  options(options: SagaOptions): Saga<Input, Results> {
    const compensation = resolveRetry(options.compensation, this.plan.compensation, `saga ${this.plan.name} compensation`)
    const compensationTimeoutMs = checkTimeout(options.compensation?.timeoutMs, this.plan.compensationTimeoutMs, `saga ${this.plan.name} compensation`)
    const nonRetryable = [...this.plan.nonRetryable, ...(options.nonRetryable ?? [])]
    return new Saga({ ...this.plan, compensation, compensationTimeoutMs, nonRetryable })
  }
}

/** Starts a saga definition: `saga<OrderInput>('place-order').step(...)`. */
export function saga<Input>(name: string): Saga<Input, {}> {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) throw new SagaError('INVALID_DEFINITION', 'a saga needs a name of 1 to 200 characters')
  return new Saga({
    name,
    stages: [],
    steps: new Map(),
    compensation: defaultCompensationRetry,
    compensationTimeoutMs: defaultStepTimeoutMs,
    nonRetryable: [],
  })
}

const kindRank: Record<StepKind, number> = { compensatable: 0, pivot: 1, retriable: 2 }

function addStage(plan: SagaPlan, specs: [string, StepSpec<unknown, unknown, unknown>][]): SagaPlan {
  const stageIndex = plan.stages.length
  const stage = specs.map(([name, spec]) => stepPlan(plan, name, spec, stageIndex))
  const kinds = new Set(stage.map((s) => s.kind))
  const where = `saga ${plan.name}, step ${stage.map((s) => s.name).join('+')}`
  if (kinds.size > 1) throw new SagaError('INVALID_DEFINITION', `${where}: the steps of a parallel group must be of one kind`)
  const kind = stage[0].kind
  if (kind === 'pivot' && stage.length > 1) throw new SagaError('INVALID_DEFINITION', `${where}: a pivot cannot be part of a parallel group`)
  const last = plan.stages[plan.stages.length - 1]?.[0]?.kind
  if (last !== undefined && (kindRank[kind] < kindRank[last] || (kind === 'pivot' && last === 'pivot'))) {
    throw new SagaError('INVALID_DEFINITION', `${where}: a ${kind} step cannot follow a ${last} step (order: compensatable, at most one pivot, retriable)`)
  }
  const steps = new Map(plan.steps)
  for (const s of stage) {
    if (steps.has(s.name)) throw new SagaError('INVALID_DEFINITION', `saga ${plan.name}: duplicate step name '${s.name}'`)
    steps.set(s.name, s)
  }
  return { ...plan, stages: [...plan.stages, stage], steps }
}

function stepPlan(plan: SagaPlan, name: string, spec: StepSpec<unknown, unknown, unknown>, stage: number): StepPlan {
  const where = `saga ${plan.name}, step ${name}`
  if (typeof name !== 'string' || name.length === 0 || name.length > 200 || name.includes('/')) {
    throw new SagaError('INVALID_DEFINITION', `${where}: a step name is 1 to 200 characters without '/'`)
  }
  if (typeof spec?.do !== 'function') throw new SagaError('INVALID_DEFINITION', `${where}: 'do' must be a function`)
  const kind = spec.kind ?? 'compensatable'
  if (!(kind in kindRank)) throw new SagaError('INVALID_DEFINITION', `${where}: unknown kind '${String(kind)}'`)
  if (spec.undo !== undefined && typeof spec.undo !== 'function') throw new SagaError('INVALID_DEFINITION', `${where}: 'undo' must be a function`)
  if (spec.undo && kind !== 'compensatable') throw new SagaError('INVALID_DEFINITION', `${where}: a ${kind} step has no undo`)
  if (kind === 'retriable' && spec.retry?.attempts !== undefined && spec.retry.attempts !== Infinity) {
    throw new SagaError('INVALID_DEFINITION', `${where}: a retriable step is retried forever; retry.attempts must be left out`)
  }
  const retry = resolveRetry(spec.retry, kind === 'retriable' ? foreverRetry : defaultStepRetry, where)
  const undo = spec.undo ? spec.undo.bind(spec) : null
  return {
    name,
    kind,
    stage,
    retry,
    timeoutMs: checkTimeout(spec.timeoutMs, defaultStepTimeoutMs, where),
    hasUndo: undo !== null,
    run: spec.do.bind(spec) as StepPlan['run'],
    undo: undo as StepPlan['undo'],
    nonRetryable: spec.nonRetryable ?? [],
  }
}
