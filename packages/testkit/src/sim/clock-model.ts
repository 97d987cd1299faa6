/**
 * How one simulated machine's clock reads global virtual time: a constant
 * offset (skew) and a rate (drift, e.g. 1.0001 runs 100 ppm fast). Both can
 * change while the simulation runs; reads stay monotonic, as a real
 * monotonic clock would be, so a step back freezes the clock until global
 * time catches up instead of going backwards.
 */
export class ClockModel {
  private anchorGlobal: number
  private anchorLocal: number
  private rateValue: number
  private lastRead = -Infinity

  constructor(globalNow: number, skewMs = 0, rate = 1) {
    checkRate(rate)
    this.anchorGlobal = globalNow
    this.anchorLocal = globalNow + skewMs
    this.rateValue = rate
  }

  get rate(): number {
    return this.rateValue
  }

  /** Current offset of this clock from global time, in ms (before the monotonic floor). */
  skewAt(globalNow: number): number {
    return this.raw(globalNow) - globalNow
  }

  /** What the machine's clock says at global time `g` (monotonic). */
  read(g: number): number {
    const local = Math.max(this.raw(g), this.lastRead)
    this.lastRead = local
    return local
  }

  /** The earliest global time, not before `globalNow`, at which this clock reads `local`. */
  globalFor(local: number, globalNow: number): number {
    if (local <= this.lastRead) return globalNow
    return Math.max(globalNow, this.anchorGlobal + (local - this.anchorLocal) / this.rateValue)
  }

  /** A timer due at `local` fired: reads from now on are at least `local` (undoes float rounding). */
  reached(local: number): void {
    if (local > this.lastRead) this.lastRead = local
  }

  /** Re-anchors at `globalNow` with a new offset and/or rate. */
  adjust(globalNow: number, change: { skewMs?: number; rate?: number }): void {
    const local = change.skewMs !== undefined ? globalNow + change.skewMs : this.raw(globalNow)
    if (change.rate !== undefined) checkRate(change.rate)
    this.anchorGlobal = globalNow
    this.anchorLocal = local
    if (change.rate !== undefined) this.rateValue = change.rate
  }

  private raw(g: number): number {
    return this.anchorLocal + (g - this.anchorGlobal) * this.rateValue
  }
}

function checkRate(rate: number): void {
  if (!(rate > 0 && Number.isFinite(rate))) throw new RangeError(`clock rate must be a positive finite number, got ${rate}`)
}
