import type { EntryStatus } from '../core/commands.js'
import type { Renewable } from './renewals.js'

/** A waiter's poll as an item of the keep-alive batches: answered once, then done. */
export class QueuePoll implements Renewable {
  readonly answer: Promise<{ sentAt: number; status: EntryStatus } | { error: unknown }>
  private settle!: (a: { sentAt: number; status: EntryStatus } | { error: unknown }) => void
  private done = false

  /** No deadline of its own: a late answer still says whether the entry waits or was granted (the batch waits requestTimeoutMs). */
  readonly expiresAtMs = Infinity

  constructor(
    readonly name: string,
    readonly requestId: number,
    readonly ttlMs: number,
  ) {
    this.answer = new Promise((resolve) => (this.settle = resolve))
  }

  /** Still wanted: a poll the waiter stopped waiting for is left out of the next batch. */
  get held(): boolean {
    return !this.done
  }

  renewed(sentAt: number, status: EntryStatus): void {
    this.settle({ sentAt, status })
  }

  renewFailed(error: unknown): void {
    this.settle({ error })
  }

  end(): void {
    this.done = true
  }
}
