import type { LeaseMode } from '../core/commands.js'
import { LeaseError } from '../lease-error.js'
import { ttlProblem } from './lease.js'
import type { DriftMargin } from './lease.js'

export interface LeasesOptions {
  /** Identifies this client in the table; unique per client incarnation (default: node name + random). */
  clientId?: string
  /** How much before the server could expire a lease its `signal` fires (default 5% of the TTL + 20 ms). */
  clockDriftMargin?: Partial<DriftMargin>
  /** TTL when `acquire` is not given one, in ms (default 10,000). */
  defaultTtlMs?: number
  /** Timeout of one request to the group, in ms (default 2,000). */
  requestTimeoutMs?: number
  /** Backoff between retries of a failed request, in ms (default 20–1,000, exponential with jitter). */
  retryBackoffMs?: { min?: number; max?: number }
  /** How often `watch` and `observe` read the name when no member takes the watch (its watcher limits), in ms (default 250). */
  watchPollMs?: number
  /** A watch that hears nothing (no change, no beat) from its member for this long reads the name again, in ms (default 3,000; members beat every second). */
  watchTimeoutMs?: number
  /** Watches (and observes) open at once before new ones fail with OVERLOADED (default 10,000). */
  maxWatches?: number
  /** Acquire calls in flight at once before new ones fail with OVERLOADED (default 10,000). */
  maxPendingAcquires?: number
  /** Keep-alives per `renew` command (default 1,000; must not exceed the table's `maxRenewItems`, default 1,024). */
  maxRenewItems?: number
}

export interface AcquireOptions {
  /** Time to live of the lease on the server without keep-alives, in ms. */
  ttlMs?: number
  mode?: LeaseMode
  /** Give up (LEASE_TIMEOUT) when not granted within this many ms (default: wait forever). */
  waitMs?: number
  /** Abort the acquire (LEASE_ABORTED); the place in the queue is given up. */
  signal?: AbortSignal
  /** Holder data others can read (up to 4 KiB): an election candidate's address. */
  value?: string
}

/** Counters of one client, for diagnostics. */
export interface LeasesStats {
  /** Leases granted to this client. */
  granted: number
  /** Of those, learned from the leader's hint rather than an answer. */
  grantedByHint: number
  /** Acquire requests sent (first tries and retries). */
  acquireRequests: number
  /** Keep-alive (`renew`) commands sent, and the items they carried (lease renewals and waiters' polls). */
  renewCommands: number
  renewItems: number
  /** Reads that (re)registered a watch, and the changes members pushed to it. */
  watchRegistrations: number
  watchEvents: number
}

export interface WatchOptions {
  signal?: AbortSignal
  /** Poll interval, only when no member takes the watch (default `watchPollMs`). */
  pollMs?: number
}

/** The client's drift margin from its options, checked. */
export function driftMarginOf(options: LeasesOptions): DriftMargin {
  const margin = { ratio: options.clockDriftMargin?.ratio ?? 0.05, ms: options.clockDriftMargin?.ms ?? 20 }
  if (!(margin.ratio >= 0 && margin.ratio < 0.5 && margin.ms >= 0)) {
    throw new LeaseError('INVALID_ARGUMENT', 'clockDriftMargin needs 0 <= ratio < 0.5 and ms >= 0')
  }
  return margin
}

/** Throws INVALID_ARGUMENT unless `name` is a non-empty string of at most 1024 characters. */
export function checkName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 1024) throw new LeaseError('INVALID_ARGUMENT', 'name must be a non-empty string of at most 1024 characters')
}

/** Throws INVALID_ARGUMENT for a bad name, TTL (for `margin`), mode, `waitMs` or `value`. */
export function checkAcquire(name: string, ttlMs: number, mode: LeaseMode, o: AcquireOptions, margin: DriftMargin): void {
  const bad = (what: string) => new LeaseError('INVALID_ARGUMENT', what)
  checkName(name)
  const ttl = ttlProblem(ttlMs, margin)
  if (ttl !== null) throw bad(ttl)
  if (mode !== 'exclusive' && mode !== 'shared') throw bad(`mode must be 'exclusive' or 'shared'`)
  if (o.waitMs !== undefined && !(o.waitMs >= 0)) throw bad(`waitMs must be >= 0, got ${o.waitMs}`)
  if (o.value !== undefined && (typeof o.value !== 'string' || o.value.length > 4096)) throw bad('value must be a string of at most 4096 characters')
}
