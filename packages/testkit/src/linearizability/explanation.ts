// Turns a dead end of the search into text a person can act on: where, how far
// a linearization got, the state there, and what could not come next and why.
import type { Operation } from '../history.js'
import type { Model } from './model.js'
import type { Stuck } from './search.js'
import { describeValue } from './value.js'

/** How many operations of the longest prefix to print (the most recent). */
const PREFIX_TAIL_MAX = 10
/** How many pending info operations to list at the dead end. */
const INFO_SHOWN_MAX = 5

export interface PartitionInfo<Input, Output> {
  ops: readonly Operation<Input, Output>[]
  index: number
  count: number
  label: string | undefined
  /** Position of each operation in the history given to the checker. */
  historyIndex: (op: Operation<Input, Output>) => number | undefined
}

export function explainIllegal<State, Input, Output>(
  model: Model<State, Input, Output>,
  part: PartitionInfo<Input, Output>,
  stuck: Stuck<State>,
): string {
  const op = (i: number): Operation<Input, Output> => part.ops[i] as Operation<Input, Output>
  const line = (i: number): string => describeOp(model, part, op(i))
  const lines = [`Not linearizable: ${where(part)}.`]
  const { prefix } = stuck
  if (prefix.length === 0) {
    lines.push('No operation can even be linearized first.')
  } else {
    const shown = prefix.slice(-PREFIX_TAIL_MAX)
    const tail = shown.length < prefix.length ? `; its last ${shown.length}` : ''
    lines.push(`Longest linearizable prefix found: ${prefix.length} of ${part.ops.length} operations${tail}:`)
    for (const i of shown) lines.push(`  ${line(i)}`)
  }
  lines.push(`State after that prefix: ${describeState(model, stuck.state)}`)
  const deadline = op(stuck.deadline)
  lines.push(
    `None of these can be linearized next (all were called before ${label(part, deadline)} returned at ${deadline.return}, so one of them must come next):`,
  )
  const finished = stuck.candidates.filter((i) => op(i).outcome === 'ok')
  for (const i of finished) {
    const candidate = op(i)
    const fits = model.step(stuck.state, candidate.input, candidate.output, false).ok
    const why = fits ? 'fits this state, but no linearization of the rest follows it' : 'impossible in this state'
    lines.push(`  ${line(i)}  -- ${why}`)
  }
  // Info operations that would change the state are the ones that could have
  // explained something; list them first, then the rest.
  const changes = (i: number): boolean => {
    const next = model.step(stuck.state, op(i).input, undefined, true)
    return next.ok && !model.equal(next.state, stuck.state)
  }
  const infos = stuck.candidates.filter((i) => op(i).outcome === 'info')
  const ranked = [...infos.filter(changes), ...infos.filter((i) => !changes(i))]
  if (ranked.length > 0) lines.push(`Also pending, outcome unknown (taking effect here does not help either):`)
  for (const i of ranked.slice(0, INFO_SHOWN_MAX)) lines.push(`  ${line(i)}`)
  if (ranked.length > INFO_SHOWN_MAX) lines.push(`  ... and ${ranked.length - INFO_SHOWN_MAX} more`)
  return lines.join('\n')
}

export function where<Input, Output>(part: PartitionInfo<Input, Output>): string {
  const count = `${part.ops.length} operation${part.ops.length === 1 ? '' : 's'}`
  if (part.count === 1) return `${part.label ?? 'the history'} (${count})`
  const name = part.label === undefined ? '' : `${part.label}, `
  return `${name}partition ${part.index + 1} of ${part.count} (${count})`
}

export function describeOp<State, Input, Output>(
  model: Model<State, Input, Output>,
  part: PartitionInfo<Input, Output>,
  op: Operation<Input, Output>,
): string {
  const unknown = op.outcome === 'info'
  const text =
    model.describeOperation?.(op.input, op.output, unknown) ??
    `${describeValue(op.input)} -> ${unknown ? '?' : describeValue(op.output)}`
  const ret = unknown ? 'outcome unknown' : `return ${op.return}`
  return `${label(part, op)} client ${String(op.clientId)}: ${text}  [call ${op.call}, ${ret}]`
}

function label<Input, Output>(part: PartitionInfo<Input, Output>, op: Operation<Input, Output>): string {
  const index = part.historyIndex(op)
  return index === undefined ? 'op' : `op #${index}`
}

function describeState<State, Input, Output>(model: Model<State, Input, Output>, state: State): string {
  return model.describeState?.(state) ?? describeValue(state)
}
