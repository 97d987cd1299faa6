import type { Clock, TimerHandle } from './clock.js'
import { TroupeError } from './errors.js'
import type { PayloadOf, Protocol } from './protocol.js'

/**
 * Keyed timers of one actor. Starting a timer with a key that is in use
 * replaces it; a message from a cancelled or replaced timer is never handled,
 * even if it was already queued. All timers are cancelled when the actor
 * stops or restarts.
 */
export interface Timers<P extends Protocol> {
  startSingle<K extends keyof P & string>(key: string, delayMs: number, type: K, payload: PayloadOf<P, K>): void
  startPeriodic<K extends keyof P & string>(key: string, intervalMs: number, type: K, payload: PayloadOf<P, K>): void
  cancel(key: string): void
  cancelAll(): void
  isActive(key: string): boolean
}

/** @internal */
export class TimerEntry {
  handle: TimerHandle | null = null
  constructor(
    readonly key: string,
    readonly type: string,
    readonly payload: unknown,
    readonly intervalMs: number | null,
  ) {}
}

/** @internal what a timer needs from its actor. */
export interface TimerOwner {
  deliverTimer(entry: TimerEntry): void
}

/** @internal */
export class ActorTimers implements Timers<any> {
  private readonly entries = new Map<string, TimerEntry>()

  constructor(
    private readonly clock: Clock,
    private readonly owner: TimerOwner,
  ) {}

  startSingle(key: string, delayMs: number, type: string, payload: unknown): void {
    this.start(key, delayMs, type, payload, null)
  }

  startPeriodic(key: string, intervalMs: number, type: string, payload: unknown): void {
    if (!(intervalMs > 0)) throw new TroupeError('INVALID_ARGUMENT', `timer interval must be > 0 ms, got ${intervalMs}`)
    this.start(key, intervalMs, type, payload, intervalMs)
  }

  cancel(key: string): void {
    const entry = this.entries.get(key)
    if (!entry) return
    this.entries.delete(key)
    if (entry.handle) this.clock.clearTimer(entry.handle)
  }

  cancelAll(): void {
    for (const key of [...this.entries.keys()]) this.cancel(key)
  }

  isActive(key: string): boolean {
    return this.entries.has(key)
  }

  /** Called when the timer's message is about to be handled: is it still current? */
  isCurrent(entry: TimerEntry): boolean {
    if (this.entries.get(entry.key) !== entry) return false
    if (entry.intervalMs === null) this.entries.delete(entry.key)
    return true
  }

  private start(key: string, delayMs: number, type: string, payload: unknown, intervalMs: number | null): void {
    if (!(delayMs >= 0 && Number.isFinite(delayMs))) throw new TroupeError('INVALID_ARGUMENT', `timer delay must be a finite number >= 0, got ${delayMs}`)
    this.cancel(key)
    const entry = new TimerEntry(key, type, payload, intervalMs)
    this.entries.set(key, entry)
    this.arm(entry, delayMs)
  }

  private arm(entry: TimerEntry, delayMs: number): void {
    entry.handle = this.clock.setTimer(delayMs, () => {
      if (this.entries.get(entry.key) !== entry) return
      if (entry.intervalMs !== null) this.arm(entry, entry.intervalMs)
      this.owner.deliverTimer(entry)
    })
  }
}
