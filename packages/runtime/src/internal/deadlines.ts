import type { Clock, TimerHandle } from '../clock.js'

/** Something with a deadline; the wheel fills in its slot and position. */
export interface Expiring {
  expire(): void
  /** @internal position in the wheel: -1 when not in it. */
  wheelSlot: number
  wheelPos: number
}

/**
 * Deadlines for many short-lived waits (asks) on one clock timer: O(1) add
 * and remove, grouped in slots of `slotMs`. A wait expires at most `slotMs`
 * after its deadline, never before. Far cheaper than a timer per ask.
 */
export class DeadlineWheel {
  private readonly slots = new Map<number, Expiring[]>()
  private timer: TimerHandle | null = null
  private armedSlot = Infinity

  constructor(
    private readonly clock: Clock,
    private readonly slotMs = 10,
  ) {}

  add(item: Expiring, deadlineMs: number): void {
    const slot = Math.ceil(deadlineMs / this.slotMs)
    let bucket = this.slots.get(slot)
    if (bucket === undefined) {
      bucket = []
      this.slots.set(slot, bucket)
    }
    item.wheelSlot = slot
    item.wheelPos = bucket.length
    bucket.push(item)
    if (slot < this.armedSlot) this.arm(slot)
  }

  remove(item: Expiring): void {
    const bucket = this.slots.get(item.wheelSlot)
    if (bucket === undefined || bucket[item.wheelPos] !== item) return
    const last = bucket.pop()!
    if (last !== item) {
      bucket[item.wheelPos] = last
      last.wheelPos = item.wheelPos
    }
    if (bucket.length === 0) {
      this.slots.delete(item.wheelSlot)
      // Nothing left to wait for: drop the timer so an idle system holds none.
      if (this.slots.size === 0 && this.timer !== null) {
        this.clock.clearTimer(this.timer)
        this.timer = null
        this.armedSlot = Infinity
      }
    }
    item.wheelSlot = -1
  }

  get size(): number {
    let n = 0
    for (const b of this.slots.values()) n += b.length
    return n
  }

  private arm(slot: number): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer)
    this.armedSlot = slot
    this.timer = this.clock.setTimer(slot * this.slotMs - this.clock.now(), () => this.fire())
  }

  private fire(): void {
    this.timer = null
    this.armedSlot = Infinity
    const nowSlot = Math.floor(this.clock.now() / this.slotMs)
    let next = Infinity
    const due: Expiring[][] = []
    for (const [slot, bucket] of this.slots) {
      if (slot <= nowSlot) {
        due.push(bucket)
        this.slots.delete(slot)
      } else if (slot < next) next = slot
    }
    if (next !== Infinity) this.arm(next)
    for (const bucket of due) {
      for (const item of bucket) {
        item.wheelSlot = -1
        item.expire()
      }
    }
  }
}
