import { SimError } from './sim-error.js'

/**
 * One scheduled happening in the simulated world: a node's timer, a frame
 * arriving, a boot, a scripted or nemesis action. `run` does the work.
 */
export interface SimEvent {
  /** Global virtual time at which it happens. */
  at: number
  /**
   * Tie-break before `seq` among events at the same time: normally `at`;
   * an event held back by a pause keeps its original due time here, so held
   * events run first and in the order they were originally due.
   */
  rank: number
  seq: number
  cancelled: boolean
  /** True while the event sits in a queue. */
  queued: boolean
  run(): void
}

function before(x: SimEvent, y: SimEvent): boolean {
  if (x.at !== y.at) return x.at < y.at
  if (x.rank !== y.rank) return x.rank < y.rank
  return x.seq < y.seq
}

/** A binary heap of events ordered by (time, rank, insertion sequence). */
export class EventQueue {
  private heap: SimEvent[] = []
  private seq = 0
  private cancelledCount = 0

  constructor(private readonly maxEvents: number) {}

  get size(): number {
    return this.heap.length - this.cancelledCount
  }

  push<E extends Omit<SimEvent, 'seq' | 'cancelled' | 'queued'>>(event: E): E & SimEvent {
    if (this.heap.length >= this.maxEvents) {
      this.compact()
      if (this.heap.length >= this.maxEvents) {
        throw new SimError('EVENT_QUEUE_FULL', `more than ${this.maxEvents} pending simulation events (runaway timers or traffic?)`)
      }
    }
    const e = event as E & SimEvent
    e.seq = this.seq++
    e.cancelled = false
    e.queued = true
    this.heap.push(e)
    this.up(this.heap.length - 1)
    return e
  }

  cancel(event: SimEvent): void {
    if (event.cancelled) return
    event.cancelled = true
    if (!event.queued) return
    this.cancelledCount++
    if (this.cancelledCount > 1024 && this.cancelledCount * 2 > this.heap.length) this.compact()
  }

  /** The earliest live event, without removing it. */
  peek(): SimEvent | undefined {
    this.dropCancelledTop()
    return this.heap[0]
  }

  pop(): SimEvent | undefined {
    this.dropCancelledTop()
    return this.take()
  }

  clear(): void {
    for (const e of this.heap) e.queued = false
    this.heap = []
    this.cancelledCount = 0
  }

  private dropCancelledTop(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) {
      this.take()
      this.cancelledCount--
    }
  }

  /** Drops cancelled events and rebuilds the heap. */
  private compact(): void {
    this.heap = this.heap.filter((e) => {
      if (e.cancelled) e.queued = false
      return !e.cancelled
    })
    this.cancelledCount = 0
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i)
  }

  private take(): SimEvent | undefined {
    const heap = this.heap
    const top = heap[0]
    if (top !== undefined) top.queued = false
    const last = heap.pop()
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last
      this.down(0)
    }
    return top
  }

  private up(i: number): void {
    const heap = this.heap
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(heap[i]!, heap[p]!)) break
      ;[heap[i], heap[p]] = [heap[p]!, heap[i]!]
      i = p
    }
  }

  private down(i: number): void {
    const heap = this.heap
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < heap.length && before(heap[l]!, heap[m]!)) m = l
      if (r < heap.length && before(heap[r]!, heap[m]!)) m = r
      if (m === i) return
      ;[heap[i], heap[m]] = [heap[m]!, heap[i]!]
      i = m
    }
  }
}
