import type { Clock, TimerHandle } from '@troupe/runtime'
import { SagaError } from '../errors.js'
import type { SagaResult } from '../saga-status.js'

interface Waiter {
  resolve(result: SagaResult): void
  reject(err: unknown): void
}

/** Tells a waiter its saga is driven elsewhere now: it goes on reading the log. */
const fencedSignal = new SagaError('SAGA_FENCED', 'fenced')

/**
 * Callers of `wait` on the sagas this coordinator drives, by saga id: told
 * the outcome when the orchestrator finishes, the failure when it cannot go
 * on, or (fenced) that they should read the log instead.
 */
export class SagaWaiters {
  private readonly waiters = new Map<string, Waiter[]>()

  constructor(private readonly clock: Clock) {}

  /** Resolves with the saga's outcome, or null once it was fenced; WAIT_TIMEOUT at `deadline` (a clock time, or Infinity). */
  wait(id: string, deadline: number): Promise<SagaResult | null> {
    return new Promise<SagaResult | null>((resolve, reject) => {
      const list = this.waiters.get(id) ?? []
      let timer: TimerHandle | null = null
      const waiter: Waiter = {
        resolve: (r) => {
          if (timer) this.clock.clearTimer(timer)
          resolve(r)
        },
        reject: (e) => {
          if (timer) this.clock.clearTimer(timer)
          if (e === fencedSignal) resolve(null)
          else reject(e)
        },
      }
      list.push(waiter)
      this.waiters.set(id, list)
      if (deadline !== Infinity) {
        timer = this.clock.setTimer(Math.max(0, deadline - this.clock.now()), () => {
          const current = this.waiters.get(id)
          if (current) this.waiters.set(id, current.filter((w) => w !== waiter))
          reject(new SagaError('WAIT_TIMEOUT', `saga ${id} still running`))
        })
      }
    })
  }

  /** The saga finished: every waiter gets its outcome. */
  finished(id: string, result: SagaResult): void {
    this.settle(id, (w) => w.resolve(result))
  }

  /** The saga cannot be driven here: every waiter gets `error`. */
  failed(id: string, error: unknown): void {
    this.settle(id, (w) => w.reject(error))
  }

  /** Another coordinator drives the saga now: waiters go on by reading the log. */
  fenced(id: string): void {
    this.settle(id, (w) => w.reject(fencedSignal))
  }

  /** The coordinator closed: every waiter fails with CLOSED. */
  close(): void {
    for (const [id, list] of this.waiters) for (const w of list) w.reject(new SagaError('CLOSED', `coordinator closed while waiting for ${id}`))
    this.waiters.clear()
  }

  private settle(id: string, fn: (w: Waiter) => void): void {
    const list = this.waiters.get(id)
    if (!list) return
    this.waiters.delete(id)
    for (const w of list) fn(w)
  }
}
