import { backoffDelayMs } from '../backoff.js'
import type { ActorRef } from '../actor-ref.js'
import type { Clock } from '../clock.js'
import type { StopReason } from '../signals.js'
import type { BackoffOptions, SupervisionStrategy } from '../supervision.js'

/** Restarts of one actor within its window: at most `maxRestarts` per `withinMs`. */
export class RestartWindow {
  private times: number[] = []

  /** Records a restart at `now`; returns its number within the window (0-based), or -1 when the window is full. */
  admit(now: number, maxRestarts: number, withinMs: number): number {
    const times = this.times.filter((t) => t > now - withinMs)
    this.times = times
    if (times.length >= maxRestarts) return -1
    times.push(now)
    return times.length - 1
  }
}

/** The delay before restart number `attempt` within the window: the shared backoff, jitter spread as configured (default 0.2). */
export function restartDelayMs(backoff: BackoffOptions | undefined, attempt: number, random: () => number): number {
  if (!backoff) return 0
  return backoffDelayMs({ minMs: backoff.minMs, maxMs: backoff.maxMs, factor: backoff.factor, jitter: { spread: backoff.jitter ?? 0.2 } }, attempt, random)
}

/** What supervision acts on: one failed actor. */
export interface Supervised {
  readonly self: ActorRef
  readonly strategy: SupervisionStrategy
  readonly clock: Clock
  readonly random: () => number
  /** Stopping or stopped: a failure then changes nothing. */
  isStopping(): boolean
  emitFailure(error: unknown, action: string): void
  requestStop(reason: StopReason): void
  /** Fails the parent with `error` (unless the parent is a guardian). */
  escalate(error: unknown): void
  restartWindow(): RestartWindow
  /** Takes no more messages: timers cancelled, stash dropped. */
  suspend(): void
  /** Runs onStop (if any), then `then`. */
  afterStopHook(then: () => void): void
  stopChildren(then: () => void): void
  /** Starts afresh from `initial()` on its next turn. */
  restartDue(): void
}

/**
 * Applies the actor's strategy to its failure: resume, stop, escalate, or
 * restart after onStop and its children's termination, once the backoff has
 * passed; past `maxRestarts` within `withinMs` it stops instead.
 */
export function superviseFailure(actor: Supervised, error: unknown): void {
  if (actor.isStopping()) return
  const strategy = actor.strategy
  actor.emitFailure(error, strategy.onFailure)
  switch (strategy.onFailure) {
    case 'resume':
      return
    case 'stop':
      return actor.requestStop({ kind: 'failed', error })
    case 'escalate':
      actor.requestStop({ kind: 'failed', error })
      return actor.escalate(error)
    case 'restart': {
      const attempt = actor.restartWindow().admit(actor.clock.now(), strategy.maxRestarts ?? 10, strategy.withinMs ?? 60_000)
      if (attempt < 0) return actor.requestStop({ kind: 'failed', error })
      return restart(actor, strategy.backoff, attempt)
    }
  }
}

function restart(actor: Supervised, backoff: BackoffOptions | undefined, attempt: number): void {
  actor.suspend()
  const delayMs = restartDelayMs(backoff, attempt, actor.random)
  actor.afterStopHook(() => {
    let pending = 2 // the backoff delay and the children's termination
    const step = () => {
      if (--pending === 0) actor.restartDue()
    }
    if (delayMs > 0) actor.clock.setTimer(delayMs, step)
    else step()
    actor.stopChildren(step)
  })
}
