import type { Clock, TimerHandle } from '@troupe/runtime'
import type { EntryStatus, LeaseMode } from '../core/commands.js'
import { LeaseError } from '../lease-error.js'

/** How much earlier than the server could expire a lease its holder gives it up. */
export interface DriftMargin {
  /** Fraction of the TTL (default 0.05): covers clock rate differences between holder and leader. */
  ratio: number
  /** Fixed part in ms (default 20): covers timer lateness and rounding. */
  ms: number
}

/** How much earlier than the server could expire a lease of `ttlMs` its holder gives it up, in ms. */
export function marginMs(ttlMs: number, margin: DriftMargin): number {
  return ttlMs * margin.ratio + margin.ms
}

/** What is wrong with `ttlMs` for a client with `margin`, or null: it must be positive and at least twice the margin. */
export function ttlProblem(ttlMs: number, margin: DriftMargin): string | null {
  if (!(Number.isFinite(ttlMs) && ttlMs > 0)) return `ttlMs must be a positive number, got ${ttlMs}`
  const m = marginMs(ttlMs, margin)
  return m > ttlMs / 2 ? `ttlMs ${ttlMs} is too short for the clock drift margin (${m} ms may be at most half the TTL)` : null
}

/** @internal what a lease needs from the client that made it. */
export interface LeaseOwner {
  readonly clock: Clock
  readonly margin: DriftMargin
  /** Renews `lease` at about `atMs` (local clock), batched with the client's other keep-alives. */
  scheduleRenewal(lease: Lease, atMs: number): void
  /** Whether a keep-alive error is worth retrying. */
  retryable(err: unknown): boolean
  /** Releases on the server in the background (retried for a while). */
  releaseOnServer(lease: Lease): Promise<void>
  /** The lease ended (lost or released). */
  ended(lease: Lease): void
}

export interface LeaseInit {
  name: string
  mode: LeaseMode
  token: number
  ttlMs: number
  value: string | null
  requestId: number
  /** Local clock when the request that proved the grant was sent. */
  sentAtMs: number
}

/**
 * A granted lease. `signal` aborts when the lease is lost or may be lost:
 * the local deadline (the send time of the last request the group confirmed,
 * plus the TTL, minus the drift margin) passed without a renewal, the group
 * said it is gone, the event loop stalled longer than the margin, or the
 * holder released it. Protected resources should check `token` with a
 * `FenceGuard`; `signal` alone is not enough (see the README).
 */
export class Lease implements AsyncDisposable {
  readonly name: string
  readonly mode: LeaseMode
  /** Fencing token: the Raft log index of the grant. */
  readonly token: number
  readonly ttlMs: number
  /** The holder data given at acquire (an election value), or null. */
  readonly value: string | null
  /** @internal */
  readonly requestId: number
  private readonly controller = new AbortController()
  private deadlineMs = -Infinity
  private deadlineTimer: TimerHandle | null = null
  private state: 'held' | 'lost' | 'released' = 'held'
  private releasing: Promise<void> | null = null

  /** @internal */
  constructor(
    private readonly owner: LeaseOwner,
    init: LeaseInit,
  ) {
    this.name = init.name
    this.mode = init.mode
    this.token = init.token
    this.ttlMs = init.ttlMs
    this.value = init.value
    this.requestId = init.requestId
    this.extend(init.sentAtMs)
  }

  get signal(): AbortSignal {
    return this.controller.signal
  }

  /** Local clock time at which `signal` fires unless a keep-alive succeeds first. */
  get expiresAtMs(): number {
    return this.deadlineMs
  }

  /** The drift margin for this lease, in ms: also the longest event-loop stall it survives. */
  get marginMs(): number {
    return marginMs(this.ttlMs, this.owner.margin)
  }

  /** True until the lease is lost, may be lost, or was released (reads the clock, not only the signal). */
  get held(): boolean {
    this.check(false)
    return this.state === 'held'
  }

  /** Throws the signal's reason (LEASE_LOST or LEASE_RELEASED) unless the lease is still held by the local clock. */
  check(throwIfLost = true): void {
    if (this.state === 'held' && this.owner.clock.now() >= this.deadlineMs) this.lose('its deadline passed without a confirmed keep-alive')
    if (throwIfLost && this.state !== 'held') throw this.controller.signal.reason
  }

  /** Gives the lease up: `signal` fires (LEASE_RELEASED) and the group frees it. Idempotent; never throws. */
  release(): Promise<void> {
    if (this.releasing) return this.releasing
    const wasHeld = this.state === 'held'
    if (wasHeld) this.end('released', new LeaseError('LEASE_RELEASED', `lease ${this.name} (token ${this.token}) was released`))
    this.releasing = this.owner.releaseOnServer(this)
    return this.releasing
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release()
  }

  /** @internal the group confirmed the lease for a request sent at `sentAtMs` (local clock). */
  extend(sentAtMs: number): void {
    if (this.state !== 'held') return
    const deadline = sentAtMs + this.ttlMs - this.marginMs
    if (deadline <= this.deadlineMs) return
    this.deadlineMs = deadline
    const clock = this.owner.clock
    if (this.deadlineTimer !== null) clock.clearTimer(this.deadlineTimer)
    this.deadlineTimer = clock.setTimer(Math.max(0, deadline - clock.now()), () => {
      this.deadlineTimer = null
      this.check(false)
    })
  }

  /** @internal the event loop did not run for `stalledMs` beyond what was expected. */
  stalled(stalledMs: number): void {
    if (this.state === 'held' && stalledMs > this.marginMs) this.lose(`the event loop stalled for ${Math.round(stalledMs)} ms (margin ${Math.round(this.marginMs)} ms)`)
  }

  /** @internal the lease is lost or may be lost. */
  lose(why: string): void {
    if (this.state !== 'held') return
    this.end('lost', new LeaseError('LEASE_LOST', `lease ${this.name} (token ${this.token}) is lost or may be lost: ${why}`))
    // The group may still count it as held: free it for the next waiter sooner than the TTL would.
    this.releasing = this.owner.releaseOnServer(this)
  }

  /** @internal schedules the next keep-alive, by default a third of the TTL from now. */
  startKeepAlive(delayMs = this.ttlMs / 3): void {
    if (this.state !== 'held') return
    this.owner.scheduleRenewal(this, this.owner.clock.now() + Math.max(0, delayMs))
  }

  /** @internal the group answered the keep-alive sent at `sentAtMs`. */
  renewed(sentAtMs: number, status: EntryStatus): void {
    if (this.state !== 'held') return
    if (status.status === 'granted' && status.token === this.token) {
      this.extend(sentAtMs)
      return this.startKeepAlive(sentAtMs + this.ttlMs / 3 - this.owner.clock.now())
    }
    this.lose(`the group answered a keep-alive with ${JSON.stringify(status)}`)
  }

  /** @internal the keep-alive request failed as a whole. */
  renewFailed(err: unknown): void {
    if (this.state !== 'held') return
    if (!this.owner.retryable(err)) return this.lose(`keep-alive failed: ${String(err)}`)
    // Try again soon; the deadline timer fires if no keep-alive gets through.
    this.startKeepAlive(Math.min(this.ttlMs / 10, Math.max(0, this.deadlineMs - this.owner.clock.now())))
  }

  private end(state: 'lost' | 'released', reason: LeaseError): void {
    this.state = state
    const clock = this.owner.clock
    if (this.deadlineTimer !== null) clock.clearTimer(this.deadlineTimer)
    this.deadlineTimer = null
    this.owner.ended(this)
    this.controller.abort(reason)
  }
}
