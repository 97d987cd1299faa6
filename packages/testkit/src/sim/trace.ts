// A running hash of everything that happened in a simulation, plus the most
// recent lines for failure reports. Two runs with the same seed must produce
// the same hash; comparing hashes is how determinism is asserted.

import { FNV1A_OFFSET, fnv1aUnit, fnv1aUpdate } from '@troupe/runtime/hash'

/** FNV-1a (32 bits) over bytes; used to fingerprint delivered frames. */
export { fnv1a32Bytes as fnv1aBytes } from '@troupe/runtime/hash'

/** The second lane's offset basis: two 32-bit FNV-1a lanes make the hash 64 bits. */
const LANE_B_OFFSET = 0x050c5d1f
/** Ends every event line, so that "ab"+"c" and "a"+"bc" hash differently. */
const SEPARATOR = 0x0a

export interface TraceOptions {
  /** Recent lines kept for failure reports (default 200; 0 keeps none). */
  keepLines?: number
}

export class Trace {
  private a = FNV1A_OFFSET
  private b = LANE_B_OFFSET
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
    // Lane b also takes the event number's low byte.
    this.a = fnv1aUnit(fnv1aUpdate(this.a, line), SEPARATOR)
    this.b = fnv1aUnit(fnv1aUnit(fnv1aUpdate(this.b, line), SEPARATOR), this.events & 0xff)
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
