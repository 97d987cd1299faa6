// A single read/write register with compare-and-set: the classic model.
import type { Model, StepResult } from './model.js'
import { describeValue, sameValue, valueKey } from './value.js'

export type RegisterInput<V> =
  | { op: 'read' }
  | { op: 'write'; value: V }
  | { op: 'cas'; expected: V; value: V }

/** read: the value read; write: ignored; cas: true if it swapped. */
export type RegisterOutput<V> = V | boolean | undefined

export interface RegisterModelOptions<V> {
  /** The value before any write (default undefined). */
  initial?: V
}

export function registerModel<V = unknown>(
  options: RegisterModelOptions<V> = {},
): Model<V | undefined, RegisterInput<V>, RegisterOutput<V>> {
  return {
    init: () => options.initial,
    step(state, input, output, unknown) {
      switch (input.op) {
        case 'read':
          return { ok: unknown || sameValue(state, output), state }
        case 'write':
          return { ok: true, state: input.value }
        case 'cas':
          return stepCas(state, input.expected, input.value, output, unknown)
      }
    },
    equal: sameValue,
    hash: valueKey,
    isReadOnly: (input) => input.op === 'read',
    describeOperation(input, output, unknown) {
      const result = unknown ? ' -> ?' : ''
      switch (input.op) {
        case 'read':
          return `read() -> ${unknown ? '?' : describeValue(output)}`
        case 'write':
          return `write(${describeValue(input.value)})${result}`
        case 'cas':
          return `cas(${describeValue(input.expected)}, ${describeValue(input.value)}) -> ${unknown ? '?' : describeValue(output)}`
      }
    },
    describeState: describeValue,
  }
}

/**
 * Compare-and-set on a value: swaps to `next` iff the state equals `expected`.
 * A reported true needs a match, a reported false needs a mismatch; with an
 * unknown outcome it does whatever the state dictates.
 */
export function stepCas<S>(state: S, expected: unknown, next: S, output: unknown, unknown: boolean): StepResult<S> {
  const matches = sameValue(state, expected)
  if (unknown) return { ok: true, state: matches ? next : state }
  if (output === true) return matches ? { ok: true, state: next } : { ok: false, state }
  if (output === false) return { ok: !matches, state }
  return { ok: false, state }
}
