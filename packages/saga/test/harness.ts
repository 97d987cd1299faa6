import { ActorSystem, ManualClock } from '@troupe/runtime'
import { Prng } from '@troupe/testkit'
import { MemorySagaLog, SagaCoordinator } from '../src/index.js'
import type { SagaEvent, SagaLog } from '../src/index.js'

const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve))

/** A node on a manual clock: time moves only in `settle`/`advance`. */
export class ManualNode {
  readonly clock: ManualClock
  readonly system: ActorSystem
  readonly coordinator: SagaCoordinator
  readonly events: SagaEvent[] = []
  readonly reports: string[] = []

  constructor(
    readonly log: SagaLog = new MemorySagaLog(),
    options: { name?: string; clock?: ManualClock; seed?: number } = {},
  ) {
    this.clock = options.clock ?? new ManualClock(1_000)
    const prng = new Prng(options.seed ?? 1)
    this.system = new ActorSystem({ name: options.name ?? 'n1', clock: this.clock, random: () => prng.next() })
    this.coordinator = new SagaCoordinator({ system: this.system, log, report: (line) => this.reports.push(line) })
    this.coordinator.subscribe((e) => this.events.push(e))
  }

  /** Runs until `promise` settles, firing timers in order (at most `maxMs` of manual time). */
  async settle<T>(promise: Promise<T>, maxMs = 600_000): Promise<T> {
    let done = false
    promise.then(
      () => (done = true),
      () => (done = true),
    )
    const limit = this.clock.now() + maxMs
    for (;;) {
      for (let i = 0; i < 5; i++) await macrotask()
      if (done) return promise
      if (!this.clock.fireNext(limit)) throw new Error(`still pending after ${maxMs} ms of manual time (now ${this.clock.now()})`)
    }
  }

  /** Lets ready work run, then moves time by `ms`, firing due timers. */
  async advance(ms: number): Promise<void> {
    const target = this.clock.now() + ms
    for (;;) {
      for (let i = 0; i < 5; i++) await macrotask()
      if (!this.clock.fireNext(target)) break
    }
    this.clock.advance(target - this.clock.now()) // nothing is due any more: just moves time
    for (let i = 0; i < 5; i++) await macrotask()
  }

  /**
   * Fires timers one by one (each after the ready work ran) until `done()`
   * holds or `maxMs` of manual time passed; returns whether it held.
   */
  async runUntil(done: () => boolean | Promise<boolean>, maxMs = 600_000): Promise<boolean> {
    const limit = this.clock.now() + maxMs
    for (;;) {
      await macrotask()
      if (await done()) return true
      if (!this.clock.fireNext(limit)) return false
    }
  }

  async stop(): Promise<void> {
    await this.coordinator.close().catch(() => undefined)
    await this.system.terminate()
  }
}

/** Record types of a history, as `type[:step]` strings. */
export function transitions(history: readonly { type: string; step?: string }[] | null): string[] {
  return (history ?? []).map((r) => (r.step ? `${r.type}:${r.step}` : r.type))
}
