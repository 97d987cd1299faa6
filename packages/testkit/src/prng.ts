// Seeded pseudo-random numbers for simulation. The generator is sfc32 (small
// fast counting, 128-bit state) seeded through a splitmix-style finalizer.
// Only 32-bit integer operations (Math.imul, `| 0`, `>>> 0`) are used, so a
// seed produces the same sequence on every run, platform and Node version;
// a failing simulation seed therefore replays exactly.

import { fmix32, fnv1a32Fmix } from '@troupe/runtime/hash'

const TWO_POW_32 = 4294967296

/** Folds any integer seed (negative or above 2^32 too) into 32 mixed bits. */
function seedKey(seed: number): number {
  const lo = seed >>> 0
  const hi = Math.floor(seed / TWO_POW_32) >>> 0
  return fmix32(lo ^ fmix32((hi + 0x9e3779b9) >>> 0))
}

export class Prng {
  readonly seed: number
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`Prng seed must be a safe integer, got ${seed}`)
    this.seed = seed
    // splitmix32 expands the 32-bit key into the three state words; d is
    // sfc32's counter, which guarantees a period of at least 2^32.
    let s = seedKey(seed)
    const nextSplit = (): number => {
      s = (s + 0x9e3779b9) | 0
      return fmix32(s)
    }
    this.a = nextSplit()
    this.b = nextSplit()
    this.c = nextSplit()
    this.d = 1
    // Discard early outputs so similar seeds diverge fully.
    for (let i = 0; i < 12; i++) this.uint32()
  }

  /** Uniform 32-bit unsigned integer. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (((this.c << 21) | (this.c >>> 11)) + t) | 0
    return t >>> 0
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.uint32() / TWO_POW_32
  }

  /** Uniform integer in [0, maxExclusive); unbiased (rejection sampling). */
  int(maxExclusive: number): number {
    if (!Number.isInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > TWO_POW_32) {
      throw new RangeError(`Prng.int needs an integer in [1, 2^32], got ${maxExclusive}`)
    }
    // Values below `threshold` would make the low residues more likely.
    const threshold = (TWO_POW_32 - maxExclusive) % maxExclusive
    for (;;) {
      const u = this.uint32()
      if (u >= threshold) return u % maxExclusive
    }
  }

  /** Uniform integer in [min, maxInclusive]. */
  range(min: number, maxInclusive: number): number {
    if (!Number.isInteger(min) || !Number.isInteger(maxInclusive) || maxInclusive < min) {
      throw new RangeError(`Prng.range needs integers min <= maxInclusive, got ${min}, ${maxInclusive}`)
    }
    return min + this.int(maxInclusive - min + 1)
  }

  /** True with probability p (p <= 0 never, p >= 1 always). */
  chance(p: number): boolean {
    return this.next() < p
  }

  /** A uniformly chosen element; throws on an empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Prng.pick from an empty array')
    return items[this.int(items.length)]
  }

  /** Shuffles in place (Fisher–Yates) and returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const tmp = items[i]
      items[i] = items[j]
      items[j] = tmp
    }
    return items
  }

  /**
   * An independent stream derived from this generator's seed and `label` only,
   * not from how many numbers were drawn so far: subsystems that each fork
   * their own stream do not shift each other when one draws more. The same
   * label gives the same stream; `new Prng(child.seed)` replays it.
   */
  fork(label: string): Prng {
    return new Prng(fmix32(seedKey(this.seed) ^ fnv1a32Fmix(label)))
  }
}
