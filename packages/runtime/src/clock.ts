/**
 * Time and timers come from a Clock so that the simulator can drive them.
 * `now()` is in milliseconds; the real clock is monotonic (it never steps
 * back) and aligned with the wall clock at process start.
 */
export interface Clock {
  now(): number
  setTimer(delayMs: number, fn: () => void): TimerHandle
  clearTimer(handle: TimerHandle): void
}

/** Opaque timer handle; only the clock that made it understands it. */
export type TimerHandle = { readonly __timer: unique symbol } | object

export const realClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimer(delayMs, fn) {
    const t = setTimeout(fn, Math.max(0, delayMs))
    return t as unknown as TimerHandle
  },
  clearTimer(handle) {
    clearTimeout(handle as unknown as NodeJS.Timeout)
  },
}

interface ManualTimer {
  at: number
  seq: number
  fn: () => void
  cancelled: boolean
}

/**
 * A clock that moves only when told. Timers due at the same instant fire in
 * the order they were set. Used by tests and by the deterministic simulator.
 */
export class ManualClock implements Clock {
  private current: number
  private seq = 0
  private heap: ManualTimer[] = []

  constructor(startMs = 0) {
    this.current = startMs
  }

  now(): number {
    return this.current
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const timer: ManualTimer = { at: this.current + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false }
    heapPush(this.heap, timer)
    return timer as unknown as TimerHandle
  }

  clearTimer(handle: TimerHandle): void {
    ;(handle as unknown as ManualTimer).cancelled = true
  }

  /** Time of the next live timer, or undefined when none is pending. */
  nextTimerAt(): number | undefined {
    this.dropCancelled()
    return this.heap[0]?.at
  }

  /** Fires the earliest due timer (moving time to it) if one is due by `limitMs`. */
  fireNext(limitMs = Infinity): boolean {
    this.dropCancelled()
    const top = this.heap[0]
    if (!top || top.at > limitMs) return false
    heapPop(this.heap)
    if (top.at > this.current) this.current = top.at
    top.fn()
    return true
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.current + ms
    while (this.fireNext(target)) {
      /* fire all due */
    }
    this.current = target
  }

  /** Number of live timers. */
  pendingTimers(): number {
    return this.heap.filter((t) => !t.cancelled).length
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0].cancelled) heapPop(this.heap)
  }
}

function before(a: ManualTimer, b: ManualTimer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}

function heapPush(heap: ManualTimer[], t: ManualTimer): void {
  heap.push(t)
  let i = heap.length - 1
  while (i > 0) {
    const p = (i - 1) >> 1
    if (!before(heap[i], heap[p])) break
    ;[heap[i], heap[p]] = [heap[p], heap[i]]
    i = p
  }
}

function heapPop(heap: ManualTimer[]): ManualTimer | undefined {
  const top = heap[0]
  const last = heap.pop()
  if (heap.length > 0 && last) {
    heap[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < heap.length && before(heap[l], heap[m])) m = l
      if (r < heap.length && before(heap[r], heap[m])) m = r
      if (m === i) break
      ;[heap[i], heap[m]] = [heap[m], heap[i]]
      i = m
    }
  }
  return top
}
