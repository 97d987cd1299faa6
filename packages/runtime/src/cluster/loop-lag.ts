import type { Clock, TimerHandle } from '../clock.js'

export interface LoopLagOptions {
  /** How often the probe timer fires (default 200 ms). */
  intervalMs?: number
  /** Lag above this counts as a stall of the local node (default 1000 ms). */
  stallThresholdMs?: number
}

/**
 * Measures how late the local event loop runs a periodic timer. A timer due
 * every `intervalMs` that fires much later means the node itself was stalled
 * (a long synchronous task, GC, a suspended VM): during a stall it could not
 * hear anyone, so its failure detector must not hold that time against peers.
 *
 * `takeStallMs(now)` can be called at any moment (not only when the probe
 * fires): it measures the gap since the last probe or check, so a liveness
 * judgement that runs before the late probe timer still sees the stall.
 */
export class LoopLag {
  readonly intervalMs: number
  readonly stallThresholdMs: number
  private lastAt: number
  private pendingStallMs = 0
  private timer: TimerHandle | null = null
  /** Largest lag seen (ms), stalls counted and their total: for stats and logs. */
  maxLagMs = 0
  stalls = 0
  totalStallMs = 0

  constructor(
    private readonly clock: Clock,
    options: LoopLagOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 200
    this.stallThresholdMs = options.stallThresholdMs ?? 1000
    this.lastAt = clock.now()
  }

  start(): void {
    if (this.timer !== null) return
    this.lastAt = this.clock.now()
    this.arm()
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer)
    this.timer = null
  }

  /** Stall time (ms) observed since the last call, to discount from liveness judgements. */
  takeStallMs(nowMs: number): number {
    this.observe(nowMs)
    const ms = this.pendingStallMs
    this.pendingStallMs = 0
    return ms
  }

  /** Accounts the gap since the last observation: anything beyond one interval is lag. */
  observe(nowMs: number): void {
    const lagMs = nowMs - this.lastAt - this.intervalMs
    if (nowMs > this.lastAt) this.lastAt = nowMs
    if (!(lagMs > 0)) return
    if (lagMs > this.maxLagMs) this.maxLagMs = lagMs
    if (lagMs > this.stallThresholdMs) {
      this.stalls++
      this.totalStallMs += lagMs
      this.pendingStallMs += lagMs
    }
  }

  private arm(): void {
    this.timer = this.clock.setTimer(this.intervalMs, () => {
      this.observe(this.clock.now())
      this.arm()
    })
  }
}
