import type { Clock, TimerHandle } from '@troupe/runtime'
import type { GrantHint } from '../server/inbox-protocol.js'

interface Sleeper {
  timer: TimerHandle | null
  done: (hint: GrantHint | null) => void
}

/** Hints that arrive before their acquire waits for them (kept briefly; bounded). */
const MAX_EARLY_HINTS = 1024

/**
 * Sleeps on the injected clock that end early on abort, and waits for
 * grant hints by request id. Nothing here rejects: callers look at why
 * they woke (aborted, closed, deadline) and decide.
 */
export class Waits {
  private readonly sleepers = new Set<Sleeper>()
  private readonly grantWaiters = new Map<number, Sleeper>()
  private readonly early = new Map<number, { hint: GrantHint; atMs: number }>()

  constructor(private readonly clock: Clock) {}

  /** Resolves after `ms`, or at once when `signal` aborts or everything is cancelled. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.wait(ms, signal, null).then(() => undefined)
  }

  /**
   * Resolves with the hint for `requestId` when one arrives, or null after
   * `ms` (or on abort). A hint that came before the wait counts only if it
   * arrived at or after `notBeforeMs` (the send time of the request answered
   * "queued"): an older one may be about an entry of that request id that
   * has ended since.
   */
  waitForGrant(requestId: number, ms: number, signal?: AbortSignal, notBeforeMs = -Infinity): Promise<GrantHint | null> {
    const early = this.early.get(requestId)
    if (early !== undefined) {
      this.early.delete(requestId)
      if (early.atMs >= notBeforeMs) return Promise.resolve(early.hint)
    }
    return this.wait(ms, signal, requestId)
  }

  /** Delivers a hint to the acquire waiting for it (or keeps it for a moment). */
  grant(hint: GrantHint): void {
    const sleeper = this.grantWaiters.get(hint.requestId)
    if (sleeper !== undefined) return sleeper.done(hint)
    this.early.set(hint.requestId, { hint, atMs: this.clock.now() })
    if (this.early.size > MAX_EARLY_HINTS) this.early.delete(this.early.keys().next().value as number)
  }

  /** Wakes every sleeper (on close). */
  cancelAll(_reason: unknown): void {
    for (const s of [...this.sleepers]) s.done(null)
  }

  private wait(ms: number, signal: AbortSignal | undefined, requestId: number | null): Promise<GrantHint | null> {
    if (signal?.aborted) return Promise.resolve(null)
    return new Promise((resolve) => {
      const onAbort = () => sleeper.done(null)
      const sleeper: Sleeper = {
        timer: null,
        done: (hint) => {
          if (!this.sleepers.delete(sleeper)) return
          if (sleeper.timer !== null) this.clock.clearTimer(sleeper.timer)
          if (requestId !== null && this.grantWaiters.get(requestId) === sleeper) this.grantWaiters.delete(requestId)
          signal?.removeEventListener('abort', onAbort)
          resolve(hint)
        },
      }
      this.sleepers.add(sleeper)
      if (requestId !== null) this.grantWaiters.set(requestId, sleeper)
      signal?.addEventListener('abort', onAbort, { once: true })
      if (Number.isFinite(ms)) sleeper.timer = this.clock.setTimer(Math.max(0, ms), () => sleeper.done(null))
    })
  }
}
