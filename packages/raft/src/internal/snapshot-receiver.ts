import type { Snapshot, SnapshotMeta } from '../storage.js'
import type { SnapshotChunk } from './message.js'

export interface ChunkOutcome {
  /** Contiguous bytes held for the snapshot named by the chunk. */
  offset: number
  /** The chunk did not continue the transfer: the leader must resend from `offset`. */
  reject: boolean
  /** Set when the last chunk completed the snapshot. */
  snapshot: Snapshot | null
}

/**
 * Assembles an InstallSnapshot transfer on the follower. Chunks must arrive
 * in order (go-back-N): a duplicate is acknowledged and dropped, a gap is
 * rejected so the leader resends from the last contiguous byte.
 */
export class SnapshotReceiver {
  private meta: SnapshotMeta | null = null
  private term = 0
  private totalBytes = 0
  private received = 0
  private chunks: Uint8Array[] = []

  receive(m: SnapshotChunk): ChunkOutcome {
    if (m.offset === 0) this.start(m)
    else if (!this.continues(m)) return { offset: 0, reject: true, snapshot: null }
    if (m.offset < this.received) return { offset: this.received, reject: false, snapshot: null }
    if (m.offset > this.received) return { offset: this.received, reject: true, snapshot: null }
    if (this.received + m.data.byteLength > this.totalBytes) {
      this.clear()
      return { offset: 0, reject: true, snapshot: null }
    }
    this.chunks.push(m.data)
    this.received += m.data.byteLength
    if (!m.done) return { offset: this.received, reject: false, snapshot: null }
    if (this.received !== this.totalBytes) {
      this.clear()
      return { offset: 0, reject: true, snapshot: null }
    }
    const snapshot = { meta: this.meta!, data: concat(this.chunks, this.totalBytes) }
    const offset = this.received
    this.clear()
    return { offset, reject: false, snapshot }
  }

  /** Bytes currently buffered (for status). */
  get bufferedBytes(): number {
    return this.received
  }

  clear(): void {
    this.meta = null
    this.term = 0
    this.totalBytes = 0
    this.received = 0
    this.chunks = []
  }

  private start(m: SnapshotChunk): void {
    this.clear()
    this.meta = m.meta
    this.term = m.term
    this.totalBytes = m.totalBytes
  }

  private continues(m: SnapshotChunk): boolean {
    return this.meta !== null && this.term === m.term && this.meta.index === m.meta.index && this.meta.term === m.meta.term
  }
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(total)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.byteLength
  }
  return out
}
