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
// Lookups are keyed by a Zobrist hash of F, updated in O(1) per change, plus
// the model's state hash.
import { Prng } from '../prng.js'
import type { Model } from './model.js'

interface Visit<State> {
  readonly finite: Uint32Array
  readonly info: Uint32Array
  readonly state: State
}

export class VisitedSet<State> {
  private readonly finite: Uint32Array
  private readonly info: Uint32Array
  private readonly isInfo: Uint8Array
  private readonly zobrist: Uint32Array
  private finiteHash = 0
  private readonly buckets = new Map<string, Visit<State>[]>()
  private readonly model: Pick<Model<State, unknown, unknown>, 'equal' | 'hash'>

  constructor(infoOps: readonly boolean[], model: Pick<Model<State, unknown, unknown>, 'equal' | 'hash'>) {
    const words = Math.ceil(infoOps.length / 32)
    this.finite = new Uint32Array(words)
    this.info = new Uint32Array(words)
    this.isInfo = Uint8Array.from(infoOps, Number)
    this.zobrist = new Uint32Array(infoOps.length)
    const rng = new Prng(0x2b7e1516)
    for (let i = 0; i < infoOps.length; i++) this.zobrist[i] = rng.uint32()
    this.model = model
  }

  /** Flips whether `op` is in the current linearized set. */
  toggle(op: number): void {
    const bit = 1 << (op & 31)
    if (this.isInfo[op] === 1) {
      this.info[op >>> 5] ^= bit
    } else {
      this.finite[op >>> 5] ^= bit
      this.finiteHash ^= this.zobrist[op]
    }
  }

  /** Records the current configuration; false if an entered one dominates it. */
  enter(state: State): boolean {
    const key = this.model.hash === undefined ? `${this.finiteHash}` : `${this.finiteHash}|${this.model.hash(state)}`
    let bucket = this.buckets.get(key)
    if (bucket === undefined) {
      bucket = []
      this.buckets.set(key, bucket)
    } else {
      for (const visit of bucket) {
        if (!sameBits(visit.finite, this.finite) || !this.model.equal(visit.state, state)) continue
        if (isSubset(visit.info, this.info)) return false
      }
    }
    bucket.push({ finite: this.finite.slice(), info: this.info.slice(), state })
    return true
  }
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function isSubset(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if ((a[i] & ~b[i]) !== 0) return false
  return true
}
