// What the linearizability checker needs to know about the object under test:
// a sequential specification (init + step) plus optional helpers for speed
// (hash, partition) and for readable explanations (describe*).
import type { Operation } from '../history.js'

export interface StepResult<State> {
  ok: boolean
  state: State
}

export interface Model<State, Input, Output> {
  /** The state before any operation. */
  init(): State
  /**
   * Applies `input` to `state` sequentially. With `unknown === false`, returns
   * ok: false when the sequential object could not have returned `output`.
   * With `unknown === true` the outcome was not observed (an info operation):
   * apply whatever the object would have done and return ok: true. Must not
   * mutate `state`.
   */
  step(state: State, input: Input, output: Output | undefined, unknown: boolean): StepResult<State>
  equal(a: State, b: State): boolean
  /** A string equal for equal states; makes the visited-state cache a hash lookup. */
  hash?(state: State): string
  /**
   * True if the operation never changes the state (a read). Read-only
   * operations with an unknown outcome are then left out of the search: an
   * unobserved read constrains nothing, and each pending one would otherwise
   * be retried at every dead end.
   */
  isReadOnly?(input: Input): boolean
  /**
   * Splits the history into independent sub-histories (P-compositionality),
   * e.g. one per key; each is checked on its own, from `init()`. Every
   * operation must land in exactly one part.
   */
  partition?(ops: Operation<Input, Output>[]): Operation<Input, Output>[][]
  /** Names a part for explanations, e.g. `key "user:7"`. */
  describePartition?(ops: Operation<Input, Output>[]): string
  describeOperation?(input: Input, output: Output | undefined, unknown: boolean): string
  describeState?(state: State): string
}
