import type { ReadContext } from './message.js'

/** A ReadIndex request the leader is confirming: readable at `index` once a quorum acks `seq`. */
export interface PendingRead {
  seq: number
  index: number
  ctx: ReadContext
  /** Who asked: the leader itself or a follower that forwarded the read. */
  from: string
}

/**
 * ReadIndex bookkeeping on the leader (etcd's read_only.go). Each request
 * gets a sequence number; heartbeats carry the newest one, and a quorum of
 * heartbeat responses echoing seq >= s confirms that this node was still
 * leader after every request up to s was registered.
 */
export class ReadOnly {
  private queue: PendingRead[] = []
  /** Reads that wait for the new leader's first commit in its term (index not yet known). */
  private waiting: Array<{ ctx: ReadContext; from: string }> = []
  /** Monotonic across terms so a stale ack can never confirm a newer read. */
  private seq = 0

  constructor(readonly maxPending: number) {}

  get size(): number {
    return this.queue.length + this.waiting.length
  }

  full(): boolean {
    return this.size >= this.maxPending
  }

  add(index: number, ctx: ReadContext, from: string): PendingRead {
    const r = { seq: ++this.seq, index, ctx, from }
    this.queue.push(r)
    return r
  }

  /** The sequence a heartbeat should carry now: the newest pending read, or 0. */
  lastSeq(): number {
    return this.queue.length > 0 ? this.queue[this.queue.length - 1]!.seq : 0
  }

  /** Removes and returns the reads confirmed by a quorum ack of `ackedSeq`. */
  release(ackedSeq: number): PendingRead[] {
    let n = 0
    while (n < this.queue.length && this.queue[n]!.seq <= ackedSeq) n++
    return n === 0 ? [] : this.queue.splice(0, n)
  }

  wait(ctx: ReadContext, from: string): void {
    this.waiting.push({ ctx, from })
  }

  takeWaiting(): Array<{ ctx: ReadContext; from: string }> {
    const w = this.waiting
    this.waiting = []
    return w
  }

  reset(): void {
    this.queue = []
    this.waiting = []
  }
}
