import type { LoopLag } from './loop-lag.js'
import { PhiAccrualDetector } from './phi-accrual.js'
import type { PhiAccrualOptions } from './phi-accrual.js'

/**
 * One phi-accrual detector per monitored node, shared by the heartbeat actor
 * (which feeds it) and the cluster daemon (which judges). Before any update
 * or judgement it absorbs local stalls measured by `LoopLag`: every last
 * heartbeat time moves later by the stall, so time the local node spent
 * frozen never counts as silence of its peers.
 */
export class DetectorRegistry {
  private readonly detectors = new Map<string, PhiAccrualDetector>()

  constructor(
    private readonly options: PhiAccrualOptions,
    private readonly lag: LoopLag | null,
  ) {}

  /** Begins judging `node` from `nowMs` (no-op if already monitored). */
  expect(node: string, nowMs: number): void {
    this.absorbStall(nowMs)
    if (this.detectors.has(node)) return
    const d = new PhiAccrualDetector(this.options)
    d.expect(nowMs)
    this.detectors.set(node, d)
  }

  /** A heartbeat answer from `node`; ignored for nodes not monitored. */
  heartbeat(node: string, nowMs: number): void {
    this.absorbStall(nowMs)
    this.detectors.get(node)?.heartbeat(nowMs)
  }

  isAvailable(node: string, nowMs: number): boolean {
    this.absorbStall(nowMs)
    return this.detectors.get(node)?.isAvailable(nowMs) ?? true
  }

  phi(node: string, nowMs: number): number {
    this.absorbStall(nowMs)
    return this.detectors.get(node)?.phi(nowMs) ?? 0
  }

  isMonitoring(node: string): boolean {
    return this.detectors.has(node)
  }

  remove(node: string): void {
    this.detectors.delete(node)
  }

  /** Nodes with a detector. */
  nodes(): string[] {
    return [...this.detectors.keys()]
  }

  /** Applies a stall of the local node directly (also what `LoopLag` feeds in). */
  discount(stallMs: number, nowMs: number): void {
    for (const d of this.detectors.values()) d.discount(stallMs, nowMs)
  }

  private absorbStall(nowMs: number): void {
    const stallMs = this.lag?.takeStallMs(nowMs) ?? 0
    if (stallMs > 0) this.discount(stallMs, nowMs)
  }
}
