import type { NameInfo } from '../core/commands.js'

/** States kept for a slow consumer; older ones go first (a watcher may skip intermediate states). */
const MAX_QUEUED = 64

/**
 * What one `watch()` call yields: states of a name in log order, only when
 * the holders changed, never one older (lower revision) than one already
 * queued. The hub feeds it from pushes and reads; the generator drains it.
 */
export class WatchStream {
  private readonly queue: NameInfo[] = []
  private waiter: (() => void) | null = null
  private lastRevision = -1
  private lastKey: string | null = null
  private failure: { err: unknown } | null = null
  closed = false

  constructor(readonly name: string) {}

  /** Offers a state; kept only if it is not older than the last kept and its holders differ. */
  offer(info: NameInfo): void {
    if (this.closed || info.revision < this.lastRevision) return
    this.lastRevision = info.revision
    const key = holdersKey(info)
    if (key === this.lastKey) return
    this.lastKey = key
    this.queue.push(info)
    if (this.queue.length > MAX_QUEUED) this.queue.shift()
    this.wake()
  }

  /** The watch ends with `err` (thrown by the generator once the queue is drained). */
  fail(err: unknown): void {
    this.failure ??= { err }
    this.wake()
  }

  close(): void {
    this.closed = true
    this.wake()
  }

  /** The next state, or null once closed (or `signal` aborted); throws the failure. */
  async next(signal?: AbortSignal): Promise<NameInfo | null> {
    for (;;) {
      const info = this.queue.shift()
      if (info !== undefined) return info
      if (this.failure !== null) throw this.failure.err
      if (this.closed || signal?.aborted) return null
      await new Promise<void>((resolve) => {
        const onAbort = () => this.wake()
        signal?.addEventListener('abort', onAbort, { once: true })
        this.waiter = () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        }
      })
    }
  }

  private wake(): void {
    const w = this.waiter
    this.waiter = null
    w?.()
  }
}

function holdersKey(info: NameInfo): string {
  return info.holders.map((h) => `${h.token}:${h.clientId}:${h.requestId}`).join(',')
}
