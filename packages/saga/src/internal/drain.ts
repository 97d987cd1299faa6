import type { Clock } from '@troupe/runtime'
import { SagaError } from '../errors.js'

export interface CloseOptions {
  /**
   * How long running steps get to finish (ms of the system clock). 0
   * (default): stop at once, as a crash would leave them. Meanwhile no new
   * saga starts (CLOSED) and no new step or retry begins.
   */
  timeoutMs?: number
}

export interface CloseResult {
  /** Unfinished sagas whose every started step settled and was recorded: `recover()` elsewhere goes on from there. */
  parked: string[]
  /** Unfinished sagas with a step still running at the timeout: `recover()` runs it again under the same idempotency key. */
  interrupted: string[]
}

/** The close timeout, checked (INVALID_ARGUMENT). */
export function closeTimeoutMs(options: CloseOptions): number {
  const ms = options.timeoutMs ?? 0
  if (!(Number.isFinite(ms) && ms >= 0)) throw new SagaError('INVALID_ARGUMENT', `timeoutMs must be a finite number of ms >= 0, got ${ms}`)
  return ms
}

/** What the drain watches on its coordinator. */
export interface DrainHost {
  readonly clock: Clock
  /** Ids of the sagas driven here now. */
  driven(): Iterable<string>
  /** Starts whose first append is still in flight. */
  starting(): number
}

/**
 * A coordinator's graceful close: while it drains, orchestrators let their
 * running steps settle, record the outcomes and park (start nothing new);
 * it ends when every saga driven here has parked (or finished), or at the
 * timeout.
 */
export class Drain {
  /** close() began. */
  active = false
  private readonly parkedIds = new Set<string>()
  private done: (() => void) | null = null

  constructor(private readonly host: DrainHost) {}

  /** Saga `id` has no step in flight any more. */
  parked(id: string): void {
    this.parkedIds.add(id)
    this.check()
  }

  /** Something that may end the drain happened (a saga finished, a start settled). */
  check(): void {
    if (this.done === null || this.host.starting() > 0) return
    for (const id of this.host.driven()) if (!this.parkedIds.has(id)) return
    this.done()
  }

  /** Drains for at most `timeoutMs`; `nudge` tells every orchestrator that draining began. */
  run(timeoutMs: number, nudge: () => void): Promise<void> {
    this.active = true
    if (timeoutMs <= 0) return Promise.resolve()
    const clock = this.host.clock
    return new Promise<void>((resolve) => {
      const timer = clock.setTimer(timeoutMs, () => this.done?.())
      this.done = () => {
        this.done = null
        clock.clearTimer(timer)
        resolve()
      }
      nudge()
      this.check()
    })
  }

  /** The unfinished sagas, parked or interrupted. */
  outcome(unfinished: readonly string[]): CloseResult {
    return { parked: unfinished.filter((id) => this.parkedIds.has(id)), interrupted: unfinished.filter((id) => !this.parkedIds.has(id)) }
  }
}
