import type { Clock } from '@troupe/runtime'
import { Lease, marginMs } from './lease.js'
import type { DriftMargin, LeaseInit, LeaseOwner } from './lease.js'
import type { Renewals } from './renewals.js'
import { StallDetector } from './stall-detector.js'

export interface HeldLeasesDeps {
  clock: Clock
  margin: DriftMargin
  /** The client's keep-alive batches. */
  renewals: Renewals
  /** Whether a keep-alive error is worth retrying. */
  retryable(err: unknown): boolean
  /** Releases a request on the server in the background (retried for a while). */
  releaseOnServer(name: string, requestId: number, ttlMs: number): Promise<void>
}

/**
 * The leases one client holds now: each is made here once granted, is
 * renewed through the client's keep-alive batches, and leaves when lost or
 * released. While any is held, a stall detector watches the event loop: a
 * stall longer than a lease's margin loses it.
 */
export class HeldLeases {
  private readonly leases = new Set<Lease>()
  private readonly stalls: StallDetector
  private readonly owner: LeaseOwner

  constructor(private readonly deps: HeldLeasesDeps) {
    this.stalls = new StallDetector(deps.clock, (ms) => {
      for (const lease of [...this.leases]) lease.stalled(ms)
    })
    this.owner = {
      clock: deps.clock,
      margin: deps.margin,
      scheduleRenewal: (lease, atMs) => deps.renewals.schedule(lease, atMs),
      retryable: (err) => deps.retryable(err),
      releaseOnServer: (lease) => deps.releaseOnServer(lease.name, lease.requestId, lease.ttlMs),
      ended: (lease) => {
        deps.renewals.cancel(lease)
        this.leases.delete(lease)
        if (this.leases.size === 0) this.stalls.stop()
      },
    }
  }

  /** The leases held now. */
  list(): Lease[] {
    return [...this.leases]
  }

  /**
   * A held lease whose deadline counts from `init.sentAtMs`, with its
   * keep-alives scheduled; or null (and nothing made) if that deadline
   * has already passed.
   */
  add(init: LeaseInit): Lease | null {
    const clock = this.deps.clock
    if (clock.now() >= init.sentAtMs + init.ttlMs - marginMs(init.ttlMs, this.deps.margin)) return null
    // Not checked again: the clock moves on, and a deadline passed meanwhile fires the lease's own timer.
    const lease = new Lease(this.owner, init)
    this.leases.add(lease)
    this.stalls.start(Math.max(5, lease.marginMs / 2))
    lease.startKeepAlive(init.sentAtMs + init.ttlMs / 3 - clock.now())
    return lease
  }

  /** Releases every held lease (on close). */
  releaseAll(): Promise<void[]> {
    return Promise.all([...this.leases].map((l) => l.release()))
  }

  /** Stops the stall detector (on close). */
  stop(): void {
    this.stalls.stop()
  }
}
