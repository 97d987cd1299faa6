import type { Clock } from '@troupe/runtime'
import { InvariantError } from '@troupe/runtime'
import type { AcquireCommand, EntryStatus, LeaseMode } from '../core/commands.js'
import { LeaseError } from '../lease-error.js'
import type { GrantHint } from '../server/inbox-protocol.js'
import type { GroupRequests } from './group-requests.js'
import type { HeldLeases } from './held-leases.js'
import type { DriftMargin, Lease } from './lease.js'
import { checkAcquire } from './options.js'
import type { AcquireOptions } from './options.js'
import { QueuePoll } from './queue-poll.js'
import type { Renewals } from './renewals.js'
import type { Waits } from './waits.js'

/** Grants in a row that arrive after their deadline before an acquire gives up (LEASE_TIMEOUT). */
const MAX_LATE_GRANTS = 3

export interface AcquisitionsDeps {
  clock: Clock
  clientId: string
  /** This client's inbox address: where the leader sends `granted` hints. */
  inbox: string
  margin: DriftMargin
  defaultTtlMs: number
  requestTimeoutMs: number
  /** Acquire calls in flight at once before new ones fail with OVERLOADED. */
  maxPendingAcquires: number
  requests: GroupRequests
  held: HeldLeases
  renewals: Renewals
  waits: Waits
  /** Whether the client was closed. */
  closed(): boolean
}

/** One acquire's settings, fixed for all its tries. */
interface Attempt {
  ttlMs: number
  mode: LeaseMode
  wait: boolean
  value: string | null
  waitUntil: number
  signal: AbortSignal | undefined
}

/** A grant learned while queued, with the send time its deadline counts from. */
interface QueuedGrant {
  token: number
  sentAt: number
  byHint: boolean
}

/**
 * The acquire protocol of one client. An acquire is one request id, sent
 * again (idempotently) after retryable failures and late grants; answered
 * "queued", it waits for the leader's `granted` hint while its entry is
 * polled through the client's keep-alive batches. A waiter entry the group
 * expired is queued again under a new request id.
 */
export class Acquisitions {
  readonly counters = { granted: 0, grantedByHint: 0, acquireRequests: 0 }
  private nextRequestId = 1
  /** Acquire calls not settled yet, by request id: keeps `settledBelow` honest. */
  private readonly pending = new Set<number>()

  constructor(private readonly deps: AcquisitionsDeps) {}

  /** Acquires `name`; with `wait` false, only if it can be granted at once (else null). */
  async acquire(name: string, options: AcquireOptions, wait: boolean): Promise<Lease | null> {
    const d = this.deps
    const ttlMs = options.ttlMs ?? d.defaultTtlMs
    const mode = options.mode ?? 'exclusive'
    checkAcquire(name, ttlMs, mode, options, d.margin)
    if (this.pending.size >= d.maxPendingAcquires) throw new LeaseError('OVERLOADED', `${this.pending.size} acquires are in flight (maxPendingAcquires)`)
    const waitUntil = d.clock.now() + (options.waitMs ?? Infinity)
    let requestId = this.nextRequestId++
    this.pending.add(requestId)
    try {
      for (let attempt = 0; ; attempt++) {
        const outcome = await this.acquireOnce(name, requestId, { ttlMs, mode, wait, value: options.value ?? null, waitUntil, signal: options.signal })
        if (outcome !== 'again') return outcome
        // Our waiter entry was expired (polls did not get through): queue again.
        this.pending.delete(requestId)
        requestId = this.nextRequestId++
        this.pending.add(requestId)
      }
    } finally {
      this.pending.delete(requestId)
    }
  }

  /** A `granted` hint from the leader, for one of this client's waiters. */
  onHint(hint: GrantHint): void {
    if (hint.clientId !== this.deps.clientId) return
    this.deps.waits.grant(hint)
  }

  private async acquireOnce(name: string, requestId: number, o: Attempt): Promise<Lease | null | 'again'> {
    const d = this.deps
    /** Latest send time of a request answered "queued": the grant came after it applied. */
    let queuedSentAt = -Infinity
    let failures = 0
    /** Whether a request went out (it may have applied): only then is there anything to give up on the server. */
    let sent = false
    /** Grants in a row that came too late to use (their deadline had passed on arrival). */
    let late = 0
    const tooLate = (): void => {
      if (++late < MAX_LATE_GRANTS) return
      void d.requests.release(name, requestId, o.ttlMs)
      throw new LeaseError('LEASE_TIMEOUT', `${name}: ${late} grants in a row arrived after their deadline (answers take longer than the TTL minus its margin)`)
    }
    for (;;) {
      this.checkStillWanted(name, requestId, o, sent)
      const command: AcquireCommand = {
        op: 'acquire', name, mode: o.mode, ttlMs: o.ttlMs, wait: o.wait, inbox: d.inbox, value: o.value,
        clientId: d.clientId, requestId, settledBelow: this.settledBelow(),
      }
      const sentAt = d.clock.now()
      this.counters.acquireRequests++
      sent = true
      let result: EntryStatus
      try {
        result = (await d.requests.propose(command, Math.min(d.requestTimeoutMs, Math.max(1, o.waitUntil - sentAt)))) as EntryStatus
        failures = 0
      } catch (err) {
        if (!d.requests.retryable(err)) {
          // An earlier try may have applied: give its entry back rather than leave it to expire.
          void d.requests.release(name, requestId, o.ttlMs)
          throw d.requests.unavailable(err)
        }
        await d.waits.sleep(d.requests.backoffMs(failures++), o.signal)
        continue
      }
      switch (result.status) {
        case 'granted': {
          this.checkNotClosed(name, requestId, o.ttlMs)
          const lease = this.hold(name, o, requestId, result.token, sentAt)
          if (lease !== null) return lease
          tooLate()
          continue // ask again with the same request: the table renews the grant, and the new answer counts from its send time
        }
        case 'queued': {
          queuedSentAt = Math.max(queuedSentAt, sentAt)
          const waited = await this.waitInQueue(name, requestId, o, queuedSentAt)
          if (waited === 'again') return 'again'
          if (waited === 'ask') continue
          this.checkNotClosed(name, requestId, o.ttlMs)
          const lease = this.hold(name, o, requestId, waited.token, waited.sentAt)
          if (lease !== null) {
            if (waited.byHint) this.counters.grantedByHint++
            return lease
          }
          tooLate()
          continue
        }
        case 'gone':
          if (result.reason === 'busy') return null
          return 'again'
        case 'rejected':
          throw new LeaseError('OVERLOADED', `the lease table refused ${name}: ${result.reason}`)
        case 'invalid':
          throw new LeaseError('INVALID_ARGUMENT', `the lease table refused ${name}: ${result.reason}`)
        case 'stale':
          // Only another client with our id settles our requests: ids are per client incarnation.
          throw new LeaseError('INVALID_ARGUMENT', `the lease table had already settled request ${requestId} of client ${d.clientId}: another Leases client uses the same clientId`)
        default:
          throw new InvariantError(`lease table answered an acquire with ${JSON.stringify(result)}`)
      }
    }
  }

  /**
   * Waits in the queue for the leader's `granted` hint. Meanwhile the waiter
   * entry is renewed a third of the TTL after the last request answered
   * "queued" was sent, as an item of the client's keep-alive batches (one
   * `renew` command for every lease and waiter of the client due then), so
   * many waiters cost a few commands, not one each. Returns the grant with
   * the send time its deadline counts from (for a hint: the latest request
   * answered "queued", which applied before the grant); 'again' if the entry
   * is gone (queue again); 'ask' to send the acquire itself again (a failed
   * poll, or the caller stopped waiting: the loop checks why).
   */
  private async waitInQueue(name: string, requestId: number, o: Attempt, queuedSentAt: number): Promise<QueuedGrant | 'again' | 'ask'> {
    const d = this.deps
    let lastQueued = queuedSentAt
    for (;;) {
      if (d.closed() || o.signal?.aborted || d.clock.now() >= o.waitUntil) return 'ask'
      const poll = new QueuePoll(name, requestId, o.ttlMs)
      d.renewals.schedule(poll, lastQueued + o.ttlMs / 3)
      const stop = new AbortController()
      const onAbort = () => stop.abort()
      o.signal?.addEventListener('abort', onAbort, { once: true })
      const hinted = d.waits.waitForGrant(requestId, Math.max(0, o.waitUntil - d.clock.now()), stop.signal, lastQueued)
      const first = await Promise.race([hinted.then((hint) => ({ hint })), poll.answer.then((answer) => ({ answer }))])
      stop.abort()
      o.signal?.removeEventListener('abort', onAbort)
      poll.end()
      d.renewals.cancel(poll)
      // A hint may have reached the wait in the same moment the poll's answer won the race: it still counts.
      const hint = 'hint' in first ? first.hint : await hinted
      const answer = 'answer' in first ? first.answer : null
      if (answer !== null && !('error' in answer) && answer.status.status === 'queued') lastQueued = Math.max(lastQueued, answer.sentAt)
      if (hint !== null) return { token: hint.token, sentAt: lastQueued, byHint: true }
      if (answer === null || 'error' in answer) return 'ask'
      switch (answer.status.status) {
        case 'queued':
          continue
        case 'granted':
          // The renew applied after the grant: the lease counts from its send time.
          return { token: answer.status.token, sentAt: answer.sentAt, byHint: false }
        case 'gone':
        case 'unknown':
          return 'again'
        default:
          return 'ask'
      }
    }
  }

  /** The granted lease, held from `sentAtMs`; or null if its deadline already passed. */
  private hold(name: string, o: Attempt, requestId: number, token: number, sentAtMs: number): Lease | null {
    const lease = this.deps.held.add({ name, mode: o.mode, token, ttlMs: o.ttlMs, value: o.value, requestId, sentAtMs })
    if (lease !== null) this.counters.granted++
    return lease
  }

  /** Throws (and gives the queue place up in the background, if a request went out) when the caller stops waiting. */
  private checkStillWanted(name: string, requestId: number, o: Attempt, sent: boolean): void {
    let error: LeaseError | null = null
    if (this.deps.closed()) error = new LeaseError('CLOSED', 'the Leases client was closed')
    else if (o.signal?.aborted) error = new LeaseError('LEASE_ABORTED', `acquire of ${name} was aborted`, { cause: o.signal.reason })
    else if (this.deps.clock.now() >= o.waitUntil) error = new LeaseError('LEASE_TIMEOUT', `${name} was not granted in time`)
    if (error === null) return
    if (sent) void this.deps.requests.release(name, requestId, o.ttlMs)
    throw error
  }

  /** A grant that arrives after close() is given back, not handed out. */
  private checkNotClosed(name: string, requestId: number, ttlMs: number): void {
    if (!this.deps.closed()) return
    void this.deps.requests.release(name, requestId, ttlMs)
    throw new LeaseError('CLOSED', 'the Leases client was closed')
  }

  private settledBelow(): number {
    let low = this.nextRequestId
    for (const id of this.pending) if (id < low) low = id
    return low
  }
}
