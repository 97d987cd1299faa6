// The search's memo of configurations already reached: (finished operations
// linearized F, info operations linearized I, model state s). Reaching the
// same one again cannot lead anywhere new (Lowe's improvement, Porcupine's
// cache).
//
// Info operations allow a stronger rule. They are optional (one may never
// have happened) and have no deadline, so a configuration with fewer of them
// linearized can do everything one with more can: any completion from
// (F, I', s) with I ⊆ I' is also a completion from (F, I, s). The search
// tries every candidate of every configuration it enters, so by induction on
// the length of a completion it is enough that a dominating configuration
// was entered at some point, finished or still open. Without this rule each
// pending info operation doubles the work at every dead end.
//
// Lookups are keyed by the exact set F (a compact snapshot) plus the
// model's state hash; states in a bucket are told apart with model.equal.
import type { Model } from './model.js'
import { WindowedBitset } from './windowed-bitset.js'
import type { BitsetSnapshot } from './windowed-bitset.js'

/** An entered configuration; visits with the same key form a list. */
interface Visit<State> {
  readonly info: BitsetSnapshot
  readonly state: State
  readonly next: Visit<State> | undefined
}

export interface OpTiming {
  readonly call: number
  readonly outcome: 'ok' | 'info'
}

export class VisitedSet<State> {
  private readonly finite: WindowedBitset
  private readonly info: WindowedBitset
  /** Per operation: its bit, numbered in call order within its kind (finite or info). */
  private readonly rank: Int32Array
  private readonly isInfo: Uint8Array
  private readonly visits = new Map<string, Visit<State>>()
  private readonly model: Pick<Model<State, unknown, unknown>, 'equal' | 'hash'>

  constructor(ops: readonly OpTiming[], model: Pick<Model<State, unknown, unknown>, 'equal' | 'hash'>) {
    this.isInfo = Uint8Array.from(ops, (op) => Number(op.outcome === 'info'))
    this.rank = new Int32Array(ops.length)
    const byCall = ops.map((_, i) => i).sort((a, b) => (ops[a] as OpTiming).call - (ops[b] as OpTiming).call || a - b)
    let finiteCount = 0
    let infoCount = 0
    for (const i of byCall) this.rank[i] = this.isInfo[i] === 1 ? infoCount++ : finiteCount++
    this.finite = new WindowedBitset(finiteCount)
    this.info = new WindowedBitset(infoCount)
    this.model = model
  }

  /** Flips whether `op` is in the current linearized set. */
  toggle(op: number): void {
    if (this.isInfo[op] === 1) this.info.toggle(this.rank[op])
    else this.finite.toggle(this.rank[op])
  }

  /** Records the current configuration; false if an entered one dominates it. */
  enter(state: State): boolean {
    const finite = this.finite.snapshot()
    const key = this.model.hash === undefined ? finite : `${finite}|${this.model.hash(state)}`
    const first = this.visits.get(key)
    for (let visit = first; visit !== undefined; visit = visit.next) {
      if (this.info.contains(visit.info) && this.model.equal(visit.state, state)) return false
    }
    this.visits.set(key, { info: this.info.snapshot(), state, next: first })
    return true
  }
}
