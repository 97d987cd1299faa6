import { backoffDelayMs, errorCode, isRetryable } from '@troupe/runtime'
import type { BackoffPolicy, Clock } from '@troupe/runtime'
import type { EntryStatus, LeaseCommand, LeaseQuery, RenewCommand, RenewResult } from '../core/commands.js'
import { LeaseError } from '../lease-error.js'
import type { LeaseGroup } from '../server/group-handle.js'
import type { Renewable } from './renewals.js'
import type { Waits } from './waits.js'

/** Failed reads in a row after which `retrying` gives up (UNAVAILABLE). */
const MAX_READ_RETRIES = 20

export interface GroupRequestsDeps {
  group: LeaseGroup
  clientId: string
  clock: Clock
  /** Uniform in [0, 1): the actor system's random source (backoff jitter). */
  random: () => number
  waits: Waits
  /** Timeout of one request, in ms. */
  requestTimeoutMs: number
  /** Backoff between retries, in ms: exponential from `min` to `max`, equal jitter. */
  backoff: { min: number; max: number }
  /** Whether the client was closed (retries stop with CLOSED). */
  closed(): boolean
}

/**
 * One client's requests to the lease group and how it retries them. A
 * failure is tried again when the error says it is retryable (a RaftGroup
 * throws NOT_LEADER, TIMEOUT, OVERLOADED and SESSION_EXPIRED as retryable,
 * and passes on the runtime's retryable ask failures); the commands are
 * idempotent, so a retry of one that applied is harmless.
 */
export class GroupRequests {
  private readonly backoff: BackoffPolicy

  constructor(private readonly deps: GroupRequestsDeps) {
    this.backoff = { minMs: deps.backoff.min, maxMs: deps.backoff.max, jitter: 'equal', maxExponent: 20 }
  }

  /** Whether a failed group request is worth sending again. */
  retryable(err: unknown): boolean {
    return isRetryable(err)
  }

  /** The delay before retry number `failures` (0-based), in ms. Draws one random number. */
  backoffMs(failures: number): number {
    return backoffDelayMs(this.backoff, failures, this.deps.random)
  }

  propose(command: LeaseCommand, timeoutMs: number): Promise<unknown> {
    return this.deps.group.propose(command, { timeoutMs })
  }

  /** One read, with the client's request timeout. */
  read(query: LeaseQuery): Promise<unknown> {
    return this.deps.group.read(query, { timeoutMs: this.deps.requestTimeoutMs })
  }

  /** `fn` until it succeeds, while its failures are retryable (at most 20 in a row); else UNAVAILABLE or CLOSED. */
  async retrying<T>(fn: () => Promise<T>): Promise<T> {
    for (let failures = 0; ; ) {
      if (this.deps.closed()) throw new LeaseError('CLOSED', 'the Leases client was closed')
      try {
        return await fn()
      } catch (err) {
        if (!this.retryable(err) || failures >= MAX_READ_RETRIES) throw this.unavailable(err)
        await this.deps.waits.sleep(this.backoffMs(failures++))
      }
    }
  }

  /** One `renew` command for `items`: a status per item, or a thrown error for the whole command. */
  async renew(items: readonly Renewable[], timeoutMs: number): Promise<EntryStatus[]> {
    const command: RenewCommand = { op: 'renew', clientId: this.deps.clientId, items: items.map((l) => ({ name: l.name, requestId: l.requestId })) }
    const result = (await this.propose(command, timeoutMs)) as RenewResult
    if (result.status === 'done' && Array.isArray(result.items) && result.items.length === items.length) return result.items
    // The table took none of it (more items than its maxRenewItems): retrying the same batch cannot help,
    // so the leases in it are lost at once (INVALID_ARGUMENT is not retried) rather than after their TTL.
    const reason = result.status === 'done' ? `${result.items?.length} answers for ${items.length} items` : result.reason
    throw new LeaseError('INVALID_ARGUMENT', `the lease table refused a keep-alive of ${items.length} leases (is maxRenewItems above the table's?): ${reason}`)
  }

  /** Releases (or cancels) a request on the server, retrying for up to its TTL (after that the leader expires it anyway). */
  async release(name: string, requestId: number, ttlMs: number): Promise<void> {
    const clock = this.deps.clock
    const giveUpAt = clock.now() + ttlMs
    for (let failures = 0; clock.now() < giveUpAt; ) {
      try {
        await this.propose({ op: 'release', name, clientId: this.deps.clientId, requestId }, this.deps.requestTimeoutMs)
        return
      } catch (err) {
        if (!this.retryable(err)) return
        await this.deps.waits.sleep(this.backoffMs(failures++))
      }
    }
  }

  /** What a group failure that retrying cannot fix becomes for the caller. */
  unavailable(err: unknown): LeaseError {
    if (err instanceof LeaseError) return err
    const code = errorCode(err)
    if (code === 'INVALID_ARGUMENT') return new LeaseError('INVALID_ARGUMENT', String(err), { cause: err })
    return new LeaseError('UNAVAILABLE', `the lease group failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}
