// A key-value map, checked one key at a time: operations on different keys
// commute, so by P-compositionality each key's sub-history is checked alone
// (much faster than searching the interleavings of all keys together).
import type { Operation } from '../history.js'
import type { Model } from './model.js'
import { stepCas } from './register-model.js'
import { describeValue, sameValue, valueKey } from './value.js'

export type KvInput<K = string, V = unknown> =
  | { op: 'get'; key: K }
  | { op: 'put'; key: K; value: V }
  /** `expected: undefined` means the key must be absent (create-if-absent). */
  | { op: 'cas'; key: K; expected: V | undefined; value: V }
  | { op: 'delete'; key: K }
  /** Appends `value` to the list stored at the key (absent counts as empty). */
  | { op: 'append'; key: K; value: V }

/**
 * get: the value, undefined when absent; put, append: ignored; cas: true if it
 * swapped; delete: whether the key existed, or undefined to not check.
 */
export type KvOutput = unknown

/** The value of the partition's one key; undefined when absent. */
export type KvState = unknown

export function kvModel<K = string, V = unknown>(): Model<KvState, KvInput<K, V>, KvOutput> {
  return {
    init: () => undefined,
    step(state, input, output, unknown) {
      switch (input.op) {
        case 'get':
          return { ok: unknown || sameValue(state, output), state }
        case 'put':
          return { ok: true, state: input.value }
        case 'cas':
          return stepCas<KvState>(state, input.expected, input.value, output, unknown)
        case 'delete': {
          const checked = !unknown && typeof output === 'boolean'
          return { ok: !checked || output === (state !== undefined), state: undefined }
        }
        case 'append': {
          if (state === undefined) return { ok: true, state: [input.value] }
          if (Array.isArray(state)) return { ok: true, state: [...state, input.value] }
          return { ok: unknown, state } // appending to a non-list fails in the store
        }
      }
    },
    equal: sameValue,
    hash: valueKey,
    isReadOnly: (input) => input.op === 'get',
    partition: partitionByKey,
    describePartition: (ops) => (ops.length === 0 ? 'no key' : `key ${describeValue((ops[0] as Operation<KvInput<K, V>, KvOutput>).input.key)}`),
    describeOperation: describeKvOperation,
    describeState: (state) => (state === undefined ? 'absent' : describeValue(state)),
  }
}

function partitionByKey<K, V>(ops: Operation<KvInput<K, V>, KvOutput>[]): Operation<KvInput<K, V>, KvOutput>[][] {
  const byKey = new Map<string, Operation<KvInput<K, V>, KvOutput>[]>()
  for (const op of ops) {
    const key = valueKey(op.input.key)
    const part = byKey.get(key)
    if (part === undefined) byKey.set(key, [op])
    else part.push(op)
  }
  return [...byKey.values()]
}

function describeKvOperation<K, V>(input: KvInput<K, V>, output: KvOutput, unknown: boolean): string {
  const key = describeValue(input.key)
  const result = unknown ? '?' : input.op === 'get' && output === undefined ? 'absent' : describeValue(output)
  switch (input.op) {
    case 'get':
      return `get(${key}) -> ${result}`
    case 'put':
      return `put(${key}, ${describeValue(input.value)})${unknown ? ' -> ?' : ''}`
    case 'cas':
      return `cas(${key}, ${input.expected === undefined ? 'absent' : describeValue(input.expected)}, ${describeValue(input.value)}) -> ${result}`
    case 'delete':
      return `delete(${key})${unknown || output !== undefined ? ` -> ${result}` : ''}`
    case 'append':
      return `append(${key}, ${describeValue(input.value)})${unknown ? ' -> ?' : ''}`
  }
}
