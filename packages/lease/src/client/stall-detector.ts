import type { Clock, TimerHandle } from '@troupe/runtime'

/**
 * Notices event-loop stalls (a GC pause, a blocked loop, a frozen VM) from
 * the clock: a timer set for `intervalMs` that fires much later means the
 * process did not run in between. Runs only while someone needs it.
 */
export class StallDetector {
  private timer: TimerHandle | null = null
  private intervalMs = 0
  private lastFireMs = 0

  constructor(
    private readonly clock: Clock,
    /** Told how much later than expected the timer fired (only when it was late). */
    private readonly onStall: (stalledMs: number) => void,
  ) {}

  get running(): boolean {
    return this.timer !== null
  }

  /** Starts (or re-times) the check every `intervalMs`. */
  start(intervalMs: number): void {
    if (this.timer !== null && intervalMs >= this.intervalMs) return
    this.stop()
    this.intervalMs = Math.max(1, intervalMs)
    this.arm()
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer)
    this.timer = null
  }

  private arm(): void {
    this.lastFireMs = this.clock.now()
    this.timer = this.clock.setTimer(this.intervalMs, () => {
      const late = this.clock.now() - this.lastFireMs - this.intervalMs
      this.arm()
      if (late > 0) this.onStall(late)
    })
  }
}
