// The search's memo: (set of linearized operations, model state) pairs already
// explored. Reaching one again cannot lead anywhere new (Lowe's improvement,
// as in Porcupine's cache). The set is a bitset with an incrementally
// maintained Zobrist hash, so keying a lookup costs O(1) plus the state hash.
import { Prng } from '../prng.js'
import type { Model } from './model.js'

interface Visit<State> {
  readonly bits: Uint32Array
  readonly state: State
}

export class VisitedSet<State> {
  private readonly bits: Uint32Array
  private readonly zobrist: Uint32Array
  private bitsHash = 0
  private readonly buckets = new Map<string, Visit<State>[]>()
  private readonly model: Pick<Model<State, unknown, unknown>, 'equal' | 'hash'>
  size = 0

  constructor(opCount: number, model: Pick<Model<State, unknown, unknown>, 'equal' | 'hash'>) {
    this.bits = new Uint32Array(Math.ceil(opCount / 32))
    this.zobrist = new Uint32Array(opCount)
    const rng = new Prng(0x2b7e1516)
    for (let i = 0; i < opCount; i++) this.zobrist[i] = rng.uint32()
    this.model = model
  }

  /** Flips whether `op` is in the current linearized set. */
  toggle(op: number): void {
    this.bits[op >>> 5] ^= 1 << (op & 31)
    this.bitsHash ^= this.zobrist[op]
  }

  /** Records (current set, state); false if it was already recorded. */
  add(state: State): boolean {
    const key = this.model.hash === undefined ? `${this.bitsHash}` : `${this.bitsHash}|${this.model.hash(state)}`
    let bucket = this.buckets.get(key)
    if (bucket === undefined) {
      bucket = []
      this.buckets.set(key, bucket)
    } else {
      for (const visit of bucket) {
        if (sameBits(visit.bits, this.bits) && this.model.equal(visit.state, state)) return false
      }
    }
    bucket.push({ bits: this.bits.slice(), state })
    this.size++
    return true
  }
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
