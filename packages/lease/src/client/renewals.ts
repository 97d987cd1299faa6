import type { Clock, TimerHandle } from '@troupe/runtime'
import type { EntryStatus } from '../core/commands.js'

/** What the batcher needs from a lease. */
export interface Renewable {
  readonly name: string
  readonly requestId: number
  readonly ttlMs: number
  /** Local deadline: an answer after it is useless. */
  readonly expiresAtMs: number
  /** False once lost or released (reads the clock). */
  readonly held: boolean
  /** The group answered the renewal sent at `sentAtMs` (local clock) with `status`. */
  renewed(sentAtMs: number, status: EntryStatus): void
  /** The renewal request failed as a whole (timeout, unreachable, refused). */
  renewFailed(err: unknown): void
}

/** Sends one `renew` command for `items`; resolves with one status per item, in order. */
export type SendRenewals = (items: readonly Renewable[], timeoutMs: number) => Promise<EntryStatus[]>

export interface RenewalsOptions {
  /** Items per command (default 1,000; the table takes up to its `maxRenewItems`). */
  maxItems: number
  /** Longest wait for one command, in ms. */
  requestTimeoutMs: number
}

/**
 * Batches the keep-alives of one client: each lease says when its next
 * renewal is due, and when the earliest comes due every lease due within
 * a tenth of its own TTL goes along in the same command (renewed a little
 * early rather than late), up to `maxItems` per command. Leases renewed
 * together fall due together again, so a client holding many leases
 * settles into a few commands per renewal period. Each lease is told the
 * send time of the command that carried it, which is what its deadline
 * counts from.
 */
export class Renewals {
  /** Leases waiting for their next renewal, with its due time (local clock). */
  private readonly due = new Map<Renewable, number>()
  private timer: TimerHandle | null = null
  private timerAtMs = Infinity
  private stopped = false
  readonly stats = { commands: 0, items: 0 }

  constructor(
    private readonly clock: Clock,
    private readonly send: SendRenewals,
    private readonly options: RenewalsOptions,
  ) {
    if (!(Number.isSafeInteger(options.maxItems) && options.maxItems >= 1)) throw new RangeError(`maxItems must be an integer >= 1, got ${options.maxItems}`)
  }

  /** Leases with a renewal scheduled (not counting those in flight). */
  get size(): number {
    return this.due.size
  }

  /** Renews `lease` at about `atMs` (local clock); replaces an earlier schedule of it. */
  schedule(lease: Renewable, atMs: number): void {
    if (this.stopped) return
    this.due.set(lease, atMs)
    if (atMs < this.timerAtMs) this.arm(atMs)
  }

  /** Forgets `lease` (it ended); an answer in flight for it is still delivered (and ignored by it). */
  cancel(lease: Renewable): void {
    this.due.delete(lease)
    if (this.due.size === 0) this.disarm()
  }

  stop(): void {
    this.stopped = true
    this.due.clear()
    this.disarm()
  }

  private arm(atMs: number): void {
    this.disarm()
    this.timerAtMs = atMs
    this.timer = this.clock.setTimer(Math.max(0, atMs - this.clock.now()), () => {
      this.timer = null
      this.timerAtMs = Infinity
      this.flush()
    })
  }

  private disarm(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer)
    this.timer = null
    this.timerAtMs = Infinity
  }

  /** Sends every lease due now or within a tenth of its TTL, in commands of at most `maxItems`. */
  private flush(): void {
    const now = this.clock.now()
    const ready: Array<[Renewable, number]> = []
    let next = Infinity
    for (const [lease, atMs] of this.due) {
      if (atMs - now <= lease.ttlMs / 10) ready.push([lease, atMs])
      else next = Math.min(next, atMs)
    }
    // The most urgent go first when there are more than one command's worth.
    ready.sort((a, b) => a[1] - b[1])
    let batch: Renewable[] = []
    for (const [lease] of ready) {
      this.due.delete(lease)
      if (!lease.held) continue
      batch.push(lease)
      if (batch.length === this.options.maxItems) {
        void this.sendBatch(batch)
        batch = []
      }
    }
    if (batch.length > 0) void this.sendBatch(batch)
    if (next < Infinity) this.arm(next)
  }

  private async sendBatch(batch: Renewable[]): Promise<void> {
    const sentAt = this.clock.now()
    let earliestDeadline = Infinity
    for (const lease of batch) earliestDeadline = Math.min(earliestDeadline, lease.expiresAtMs)
    const timeoutMs = Math.max(1, Math.min(this.options.requestTimeoutMs, earliestDeadline - sentAt))
    this.stats.commands++
    this.stats.items += batch.length
    let statuses: EntryStatus[]
    try {
      statuses = await this.send(batch, timeoutMs)
    } catch (err) {
      for (const lease of batch) lease.renewFailed(err)
      return
    }
    batch.forEach((lease, i) => lease.renewed(sentAt, statuses[i] ?? { status: 'invalid', reason: 'no answer for this item' }))
  }
}
