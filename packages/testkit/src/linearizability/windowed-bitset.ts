// A bitset over operations numbered in call order, with compact snapshots.
// The search linearizes operations roughly in call order, so the set is a
// run of all-ones words, then a short window, then zeros. A snapshot keeps
// only the window, making each memo entry O(concurrency) instead of O(n).
// Snapshots are strings (two UTF-16 units per 32-bit word): equal sets give
// equal strings, they serve directly as map keys, and they cost the garbage
// collector far less than millions of small typed arrays.

const FULL = 0xffffffff

/** Snapshot layout: [first word not all ones, ...words up to the last non-zero]. */
export type BitsetSnapshot = string

export class WindowedBitset {
  private readonly words: Uint32Array
  /** Invariant: every word below `low` is all ones; words[low] is not. */
  private low = 0
  /** Invariant: every word above `high` is zero (-1 when all are). */
  private high = -1

  constructor(size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32))
  }

  toggle(index: number): void {
    const w = index >>> 5
    this.words[w] ^= 1 << (index & 31)
    const word = this.words[w]
    if (word === 0) {
      while (this.high >= 0 && this.words[this.high] === 0) this.high--
    } else if (w > this.high) {
      this.high = w
    }
    if (word !== FULL) {
      if (w < this.low) this.low = w
    } else {
      while (this.low < this.words.length && this.words[this.low] === FULL) this.low++
    }
  }

  snapshot(): BitsetSnapshot {
    let out = String.fromCharCode(this.low & 0xffff, this.low >>> 16)
    for (let w = this.low; w <= this.high; w++) {
      const word = this.words[w]
      out += String.fromCharCode(word & 0xffff, word >>> 16)
    }
    return out
  }

  /** Whether the set `snapshot` was taken of is a subset of this one. */
  contains(snapshot: BitsetSnapshot): boolean {
    const low = snapshot.charCodeAt(0) | (snapshot.charCodeAt(1) << 16)
    if (this.low < low) return false // a word the snapshot has full is not full here
    for (let i = 2, w = low; i < snapshot.length; i += 2, w++) {
      const word = snapshot.charCodeAt(i) | (snapshot.charCodeAt(i + 1) << 16)
      if ((word & ~this.words[w]) !== 0) return false
    }
    return true
  }
}
