// checkLinearizability: is there a total order of the operations, consistent
// with real time (an operation that returned before another was called comes
// first), in which the model's sequential specification produces every
// observed output? Each partition of the model is checked on its own.
import type { Operation } from '../history.js'
import { explainIllegal, where } from './explanation.js'
import type { PartitionInfo } from './explanation.js'
import type { Model } from './model.js'
import { searchPartition } from './search.js'

/** Search steps allowed when the caller does not say (a few seconds of work). */
export const DEFAULT_MAX_STEPS = 20_000_000

export interface CheckOptions {
  /**
   * Budget of search steps (model steps and backtracks) over all partitions,
   * checked between steps; past it the verdict is 'unknown'.
   */
  maxSteps?: number
}

export type Verdict = 'ok' | 'illegal' | 'unknown'

export interface LinearizabilityResult<State, Input, Output> {
  result: Verdict
  /** Search steps used. */
  steps: number
  partitions: number
  /** Index of the partition found illegal, or where the budget ran out. */
  partition?: number
  partitionLabel?: string
  /** Readable account of an 'illegal' or 'unknown' verdict. */
  explanation?: string
  /** Illegal only: the longest linearizable prefix of the failing partition. */
  longestPrefix?: Operation<Input, Output>[]
  /** Illegal only: model state after that prefix. */
  stateAfterPrefix?: State
  /** Illegal only: the operations that could come next, none of which works. */
  blocked?: Operation<Input, Output>[]
}

export function checkLinearizability<State, Input, Output>(
  model: Model<State, Input, Output>,
  operations: readonly Operation<Input, Output>[],
  options: CheckOptions = {},
): LinearizabilityResult<State, Input, Output> {
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS
  if (!(maxSteps >= 0)) throw new RangeError(`maxSteps must be >= 0, got ${maxSteps}`)
  operations.forEach(validate)
  const relevant = operations.filter((op) => op.outcome === 'ok' || model.isReadOnly?.(op.input) !== true)
  const parts = model.partition?.(relevant.slice()) ?? [relevant]
  const partCount = parts.reduce((n, p) => n + p.length, 0)
  if (partCount !== relevant.length) {
    throw new Error(`model.partition returned ${partCount} operations for a history of ${relevant.length}`)
  }
  const indexOf = new Map<Operation<Input, Output>, number>()
  operations.forEach((op, i) => indexOf.set(op, i))

  let steps = 0
  for (let index = 0; index < parts.length; index++) {
    const ops = parts[index] as Operation<Input, Output>[]
    const part: PartitionInfo<Input, Output> = {
      ops,
      index,
      count: parts.length,
      label: model.describePartition?.(ops),
      historyIndex: (op) => indexOf.get(op),
    }
    const outcome = searchPartition(model, ops, maxSteps - steps)
    steps += outcome.steps
    const base = { steps, partitions: parts.length, partition: index, partitionLabel: part.label }
    if (outcome.kind === 'unknown') {
      const explanation = `Gave up after ${maxSteps} search steps (maxSteps) in ${where(part)}; ${index} earlier partition(s) are linearizable.`
      return { result: 'unknown', ...base, explanation }
    }
    if (outcome.kind === 'illegal') {
      const { stuck } = outcome
      return {
        result: 'illegal',
        ...base,
        explanation: explainIllegal(model, part, stuck),
        longestPrefix: stuck.prefix.map((i) => ops[i] as Operation<Input, Output>),
        stateAfterPrefix: stuck.state,
        blocked: stuck.candidates.map((i) => ops[i] as Operation<Input, Output>),
      }
    }
  }
  return { result: 'ok', steps, partitions: parts.length }
}

function validate(op: Operation<unknown, unknown>, index: number): void {
  const bad = (why: string): never => {
    throw new RangeError(`operation #${index} ${why}: ${JSON.stringify({ ...op, input: undefined, output: undefined })}`)
  }
  if (!Number.isFinite(op.call)) bad('has a non-finite call time')
  if (op.outcome === 'ok') {
    if (!Number.isFinite(op.return)) bad('is ok but has no finite return time')
    if (op.return < op.call) bad('returns before it is called')
  } else if (op.outcome !== 'info') {
    bad(`has outcome ${String(op.outcome)}, expected 'ok' or 'info'`)
  }
}
