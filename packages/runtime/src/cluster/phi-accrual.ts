import { TroupeError } from '../errors.js'

export interface PhiAccrualOptions {
  /** A node is suspected when phi reaches this (default 8: about 1 in 10^8 that a live node is this late). */
  threshold?: number
  /** Heartbeat intervals kept for the mean and deviation (default 200). */
  maxSampleSize?: number
  /** Floor for the standard deviation, so a very regular stream does not make phi jump (default 100 ms). */
  minStdDeviationMs?: number
  /** Added to the mean: pauses shorter than this are never suspicious (default 3000 ms). */
  acceptableHeartbeatPauseMs?: number
  /** Assumed interval before real samples exist (default 1000 ms). */
  firstHeartbeatEstimateMs?: number
}

/**
 * The phi accrual failure detector (Hayashibara et al. 2004), as in Akka's
 * `PhiAccrualFailureDetector`: phi = -log10(P(a heartbeat is still to come
 * this late)), with heartbeat intervals modelled as a normal distribution
 * (logistic approximation of its CDF). Pure: time is passed in.
 */
export class PhiAccrualDetector {
  readonly threshold: number
  private readonly maxSamples: number
  private readonly minStdMs: number
  private readonly pauseMs: number
  private readonly firstEstimateMs: number
  private readonly samples: number[] = []
  private next = 0
  private sum = 0
  private sumSquares = 0
  private lastAt: number | null = null
  /** Set by `expect`: the next heartbeat ends the wait and is not an interval sample. */
  private expecting = false

  constructor(options: PhiAccrualOptions = {}) {
    this.threshold = positive(options.threshold ?? 8, 'threshold')
    this.maxSamples = Math.floor(positive(options.maxSampleSize ?? 200, 'maxSampleSize'))
    this.minStdMs = positive(options.minStdDeviationMs ?? 100, 'minStdDeviationMs')
    this.pauseMs = nonNegative(options.acceptableHeartbeatPauseMs ?? 3000, 'acceptableHeartbeatPauseMs')
    this.firstEstimateMs = positive(options.firstHeartbeatEstimateMs ?? 1000, 'firstHeartbeatEstimateMs')
  }

  /** Records a heartbeat at `nowMs`. */
  heartbeat(nowMs: number): void {
    if (this.lastAt === null) {
      // Seed the history with the estimate (stddev a quarter of it), as Akka does.
      const std = this.firstEstimateMs / 4
      this.record(this.firstEstimateMs - std)
      this.record(this.firstEstimateMs + std)
    } else if (this.expecting) {
      this.expecting = false
    } else if (this.isAvailable(nowMs)) {
      // An interval that spans a suspected period is not a sample of normal behaviour.
      this.record(nowMs - this.lastAt)
    }
    this.lastAt = Math.max(nowMs, this.lastAt ?? nowMs)
  }

  /**
   * Starts the clock without a sample: a node we begin monitoring is judged
   * from now on, even if it never answers (its first answer is not an interval).
   */
  expect(nowMs: number): void {
    if (this.lastAt !== null) return
    const std = this.firstEstimateMs / 4
    this.record(this.firstEstimateMs - std)
    this.record(this.firstEstimateMs + std)
    this.lastAt = nowMs
    this.expecting = true
  }

  /** Suspicion at `nowMs`; 0 before the first heartbeat. */
  phi(nowMs: number): number {
    if (this.lastAt === null) return 0
    const n = this.samples.length
    const mean = this.sum / n
    const variance = Math.max(0, this.sumSquares / n - mean * mean)
    const std = Math.max(Math.sqrt(variance), this.minStdMs)
    return phi(nowMs - this.lastAt, mean + this.pauseMs, std)
  }

  isAvailable(nowMs: number): boolean {
    return this.phi(nowMs) < this.threshold
  }

  /** Time of the last heartbeat (null before the first). */
  get lastHeartbeatAt(): number | null {
    return this.lastAt
  }

  /**
   * Moves the last heartbeat later by `ms` (not beyond `nowMs`): the local
   * node was stalled that long and could not have heard anyone.
   */
  discount(ms: number, nowMs: number): void {
    if (this.lastAt === null || !(ms > 0)) return
    this.lastAt = Math.min(this.lastAt + ms, Math.max(nowMs, this.lastAt))
  }

  private record(intervalMs: number): void {
    if (this.samples.length < this.maxSamples) {
      this.samples.push(intervalMs)
    } else {
      const old = this.samples[this.next]
      this.sum -= old
      this.sumSquares -= old * old
      this.samples[this.next] = intervalMs
      this.next = (this.next + 1) % this.maxSamples
    }
    this.sum += intervalMs
    this.sumSquares += intervalMs * intervalMs
  }
}

/**
 * phi for `elapsedMs` since the last heartbeat given the interval mean and
 * deviation. Uses the logistic approximation of the normal CDF (error
 * < 0.0001) that Akka uses; the two branches avoid cancellation.
 */
export function phi(elapsedMs: number, meanMs: number, stdMs: number): number {
  const y = (elapsedMs - meanMs) / stdMs
  const e = Math.exp(-y * (1.5976 + 0.070566 * y * y))
  if (elapsedMs > meanMs) return -Math.log10(e / (1 + e))
  return -Math.log10(1 - 1 / (1 + e))
}

function positive(v: number, what: string): number {
  if (!(v > 0) || !Number.isFinite(v)) throw new TroupeError('INVALID_ARGUMENT', `${what} must be a positive number, got ${v}`)
  return v
}

function nonNegative(v: number, what: string): number {
  if (!(v >= 0) || !Number.isFinite(v)) throw new TroupeError('INVALID_ARGUMENT', `${what} must be >= 0, got ${v}`)
  return v
}
