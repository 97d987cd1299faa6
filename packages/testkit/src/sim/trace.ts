// A running hash of everything that happened in a simulation, plus the most
// recent lines for failure reports. Two runs with the same seed must produce
// the same hash; comparing hashes is how determinism is asserted.

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193
/** A second lane with another offset basis, so the hash has 64 bits. */
const FNV_OFFSET_B = 0x050c5d1f

/** FNV-1a (32 bits) over bytes; used to fingerprint delivered frames. */
export function fnv1aBytes(bytes: Uint8Array): number {
  let h = FNV_OFFSET
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!
    h = Math.imul(h, FNV_PRIME)
  }
  return h >>> 0
}

export interface TraceOptions {
  /** Recent lines kept for failure reports (default 200; 0 keeps none). */
  keepLines?: number
}

export class Trace {
  private a = FNV_OFFSET
  private b = FNV_OFFSET_B
  private readonly keep: number
  private readonly lines: string[] = []
  private head = 0
  /** Events hashed so far. */
  events = 0

  constructor(options: TraceOptions = {}) {
    this.keep = options.keepLines ?? 200
  }

  /** Adds one canonical event line to the hash (and the recent lines). */
  record(line: string): void {
    let a = this.a
    let b = this.b
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i)
      a = Math.imul(a ^ c, FNV_PRIME)
      b = Math.imul(b ^ c, FNV_PRIME)
    }
    // A separator so that "ab"+"c" and "a"+"bc" hash differently.
    this.a = Math.imul(a ^ 0x0a, FNV_PRIME)
    this.b = Math.imul(Math.imul(b ^ 0x0a, FNV_PRIME) ^ (this.events & 0xff), FNV_PRIME)
    this.events++
    if (this.keep === 0) return
    if (this.lines.length < this.keep) this.lines.push(line)
    else {
      this.lines[this.head] = line
      this.head = (this.head + 1) % this.keep
    }
  }

  /** 16 hex digits identifying the whole sequence of events so far. */
  get hash(): string {
    return (this.a >>> 0).toString(16).padStart(8, '0') + (this.b >>> 0).toString(16).padStart(8, '0')
  }

  /** The most recent lines, oldest first. */
  recent(): string[] {
    return [...this.lines.slice(this.head), ...this.lines.slice(0, this.head)]
  }
}
