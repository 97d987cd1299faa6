import type { ActorRef, ActorSystem, Clock } from '@troupe/runtime'
import { InvariantError } from '@troupe/runtime'
import type { AcquireCommand, EntryStatus, LeaseCommand, LeaseMode, LeaseQueryResult, NameInfo, RenewCommand, RenewResult } from './commands.js'
import { errorCode, isRetryable } from './group.js'
import type { LeaseGroup } from './group.js'
import { inboxAddress, inboxDef } from './inbox.js'
import { parseInboxAddress } from './inbox.js'
import type { GrantHint, InboxProtocol, WatchServiceProtocol } from './inbox.js'
import { WatchHub } from './internal/watch-hub.js'
import { StallDetector } from './internal/stall-detector.js'
import { Lease } from './lease.js'
import { marginMs, ttlProblem } from './lease.js'
import type { DriftMargin, LeaseOwner } from './lease.js'
import { LeaseError } from './lease-error.js'
import { Election } from './election.js'
import type { ElectionLeader } from './election.js'
import { Waits } from './internal/waits.js'
import { Renewals } from './internal/renewals.js'
import type { Renewable } from './internal/renewals.js'
import { QueuePoll } from './internal/queue-poll.js'

/** Grants in a row that arrive after their deadline before an acquire gives up (LEASE_TIMEOUT). */
const MAX_LATE_GRANTS = 3

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

/**
 * The lease client of one node. Leases live in a lease table replicated by
 * a Raft group (`group`); this client acquires, keeps alive and releases
 * them, and turns the group's answers into a local deadline per lease.
 */
export class Leases {
  readonly clientId: string
  readonly clock: Clock
  readonly margin: DriftMargin
  private readonly defaultTtlMs: number
  private readonly requestTimeoutMs: number
  private readonly backoff: { min: number; max: number }
  private readonly watchPollMs: number
  private readonly maxPendingAcquires: number
  private readonly inbox: ActorRef<InboxProtocol>
  private readonly inboxAddr: string
  private nextRequestId = 1
  /** Acquire calls not settled yet, by request id: keeps `settledBelow` honest. */
  private readonly pending = new Set<number>()
  private readonly heldLeases = new Set<Lease>()
  private readonly waits: Waits
  private readonly stalls: StallDetector
  private readonly owner: LeaseOwner
  private readonly renewals: Renewals
  private readonly watches: WatchHub
  private closed = false
  readonly elections: Election
  private readonly counters = { granted: 0, grantedByHint: 0, acquireRequests: 0 }

  constructor(
    readonly system: ActorSystem,
    readonly group: LeaseGroup,
    options: LeasesOptions = {},
  ) {
    this.clock = system.clock
    const suffix = Math.floor(system.random() * 2 ** 48).toString(36)
    this.clientId = options.clientId ?? `${system.name}/${suffix}`
    this.margin = { ratio: options.clockDriftMargin?.ratio ?? 0.05, ms: options.clockDriftMargin?.ms ?? 20 }
    this.defaultTtlMs = options.defaultTtlMs ?? 10_000
    this.requestTimeoutMs = options.requestTimeoutMs ?? 2_000
    this.backoff = { min: options.retryBackoffMs?.min ?? 20, max: options.retryBackoffMs?.max ?? 1_000 }
    this.watchPollMs = options.watchPollMs ?? 250
    this.maxPendingAcquires = options.maxPendingAcquires ?? 10_000
    if (!(this.margin.ratio >= 0 && this.margin.ratio < 0.5 && this.margin.ms >= 0)) {
      throw new LeaseError('INVALID_ARGUMENT', 'clockDriftMargin needs 0 <= ratio < 0.5 and ms >= 0')
    }
    const defaultTtl = ttlProblem(this.defaultTtlMs, this.margin)
    if (defaultTtl !== null) throw new LeaseError('INVALID_ARGUMENT', `defaultTtlMs: ${defaultTtl}`)
    this.waits = new Waits(this.clock)
    this.stalls = new StallDetector(this.clock, (ms) => {
      for (const lease of [...this.heldLeases]) lease.stalled(ms)
    })
    this.inbox = system.spawn(
      inboxDef(
        {
          granted: (hint) => this.onHint(hint),
          watchEvent: (event) => this.watches.onEvent(event),
          watchBeat: (beat) => this.watches.onBeat(beat),
        },
        () => void this.close(),
      ),
      { name: `lease-inbox-${suffix}` },
    )
    this.inboxAddr = inboxAddress(system.name, this.inbox.path)
    this.watches = new WatchHub({
      clock: this.clock,
      inbox: this.inboxAddr,
      read: async (query) => (await this.group.read(query, { timeoutMs: this.requestTimeoutMs })) as LeaseQueryResult,
      retryable: isRetryable,
      fatal: (err) => this.unavailable(err),
      backoffMs: (failures) => this.backoffMs(failures),
      sleep: (ms) => this.waits.sleep(ms),
      ack: (to, ack) => {
        const address = parseInboxAddress(to)
        if (address === null) return
        try {
          this.system.remoteRef<WatchServiceProtocol>(address.node, address.path).tell('watchAck', ack)
        } catch {
          // Unacknowledged subscriptions expire on the member.
        }
      },
      timeoutMs: options.watchTimeoutMs ?? 3000,
      maxWatches: options.maxWatches ?? 10_000,
    })
    const maxRenewItems = options.maxRenewItems ?? 1000
    if (!(Number.isSafeInteger(maxRenewItems) && maxRenewItems >= 1)) throw new LeaseError('INVALID_ARGUMENT', `maxRenewItems must be an integer >= 1, got ${maxRenewItems}`)
    this.renewals = new Renewals(this.clock, (items, timeoutMs) => this.sendRenewals(items, timeoutMs), { maxItems: maxRenewItems, requestTimeoutMs: this.requestTimeoutMs })
    this.owner = this.makeOwner()
    this.elections = new Election(this)
  }

  /** Counters of this client, for diagnostics. */
  get stats(): LeasesStats {
    return {
      ...this.counters, renewCommands: this.renewals.stats.commands, renewItems: this.renewals.stats.items,
      watchRegistrations: this.watches.stats.registrations, watchEvents: this.watches.stats.events,
    }
  }

  /** Leases this client holds now. */
  held(): Lease[] {
    return [...this.heldLeases]
  }

  /** Acquires `name`, waiting in its FIFO queue up to `waitMs`. */
  async acquire(name: string, options: AcquireOptions = {}): Promise<Lease> {
    const lease = await this.acquireInternal(name, options, true)
    if (lease === null) throw new InvariantError('acquire with wait returned no lease')
    return lease
  }

  /**
   * Acquires `name` only if it can be granted at once (nobody holds it
   * incompatibly, nobody queues); else null. It never queues; `waitMs` bounds
   * how long it keeps trying to reach the group (LEASE_TIMEOUT).
   */
  tryAcquire(name: string, options: AcquireOptions = {}): Promise<Lease | null> {
    return this.acquireInternal(name, options, false)
  }

  /** Runs `fn` while holding `name`, and releases it after. `fn` should pass the token to what it writes, and stop when `signal` fires. */
  async withLease<T>(name: string, fn: (token: number, signal: AbortSignal, lease: Lease) => Promise<T> | T, options: AcquireOptions = {}): Promise<T> {
    const lease = await this.acquire(name, options)
    try {
      return await fn(lease.token, lease.signal, lease)
    } finally {
      await lease.release()
    }
  }

  /** The holders of `name` now (a linearizable read). */
  async get(name: string): Promise<NameInfo> {
    return (await this.retrying(() => this.group.read({ op: 'get', name }, { timeoutMs: this.requestTimeoutMs }))) as NameInfo
  }

  /**
   * Yields the state of `name` now and again whenever its holders change,
   * pushed by the member whose replica served the first read. It may skip
   * intermediate states, never yields one older (lower revision) than one
   * it yielded, and converges to the latest: a missed push, a silent member
   * or a leader change sends it back to a read.
   */
  async *watch(name: string, options: WatchOptions = {}): AsyncGenerator<NameInfo, void, undefined> {
    if (this.closed) throw new LeaseError('CLOSED', 'the Leases client was closed')
    if (typeof name !== 'string' || name.length === 0 || name.length > 1024) throw new LeaseError('INVALID_ARGUMENT', 'name must be a non-empty string of at most 1024 characters')
    const stream = this.watches.open(name, options.pollMs ?? this.watchPollMs)
    try {
      for (;;) {
        const info = await stream.next(options.signal)
        if (info === null || this.closed || options.signal?.aborted) return
        yield info
      }
    } finally {
      this.watches.close(stream)
    }
  }

  /** Campaigns in `election` with `value`; resolves once this client leads (holds the election's lease). */
  campaign(election: string, value: string, options: Omit<AcquireOptions, 'mode' | 'value'> = {}): Promise<Lease> {
    return this.elections.campaign(election, value, options)
  }

  /** Stops leading (releases the leadership lease). */
  resign(leadership: Lease): Promise<void> {
    return leadership.release()
  }

  /** The current leader of `election`, or null. */
  leader(election: string): Promise<ElectionLeader | null> {
    return this.elections.leader(election)
  }

  /** Yields the leader of `election` (or null) now and whenever it changes. */
  observe(election: string, options: WatchOptions = {}): AsyncGenerator<ElectionLeader | null, void, undefined> {
    return this.elections.observe(election, options)
  }

  /** Releases every held lease and stops; later calls fail with CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.waits.cancelAll(new LeaseError('CLOSED', 'the Leases client was closed'))
    this.watches.closeAll()
    await Promise.all([...this.heldLeases].map((l) => l.release()))
    this.renewals.stop()
    this.stalls.stop()
    await this.system.stop(this.inbox).catch(() => undefined)
  }

  // ---- acquire ----

  private async acquireInternal(name: string, options: AcquireOptions, wait: boolean): Promise<Lease | null> {
    const ttlMs = options.ttlMs ?? this.defaultTtlMs
    const mode = options.mode ?? 'exclusive'
    this.validate(name, ttlMs, mode, options)
    if (this.pending.size >= this.maxPendingAcquires) throw new LeaseError('OVERLOADED', `${this.pending.size} acquires are in flight (maxPendingAcquires)`)
    const waitUntil = this.clock.now() + (options.waitMs ?? Infinity)
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

  private async acquireOnce(
    name: string,
    requestId: number,
    o: { ttlMs: number; mode: LeaseMode; wait: boolean; value: string | null; waitUntil: number; signal: AbortSignal | undefined },
  ): Promise<Lease | null | 'again'> {
    /** Latest send time of a request answered "queued": the grant came after it applied. */
    let queuedSentAt = -Infinity
    let failures = 0
    /** Whether a request went out (it may have applied): only then is there anything to give up on the server. */
    let sent = false
    /** Grants in a row that came too late to use (their deadline had passed on arrival). */
    let late = 0
    const tooLate = (): void => {
      if (++late < MAX_LATE_GRANTS) return
      void this.releaseRequest(name, requestId, o.ttlMs)
      throw new LeaseError('LEASE_TIMEOUT', `${name}: ${late} grants in a row arrived after their deadline (answers take longer than the TTL minus its margin)`)
    }
    for (;;) {
      this.checkAcquire(name, requestId, o.waitUntil, o.signal, o.ttlMs, sent)
      const command: AcquireCommand = {
        op: 'acquire', name, mode: o.mode, ttlMs: o.ttlMs, wait: o.wait, inbox: this.inboxAddr, value: o.value,
        clientId: this.clientId, requestId, settledBelow: this.settledBelow(),
      }
      const sentAt = this.clock.now()
      this.counters.acquireRequests++
      sent = true
      let result: EntryStatus
      try {
        result = (await this.propose(command, Math.min(this.requestTimeoutMs, Math.max(1, o.waitUntil - sentAt)))) as EntryStatus
        failures = 0
      } catch (err) {
        if (!isRetryable(err)) {
          // An earlier try may have applied: give its entry back rather than leave it to expire.
          void this.releaseRequest(name, requestId, o.ttlMs)
          throw this.unavailable(err)
        }
        await this.waits.sleep(this.backoffMs(failures++), o.signal)
        continue
      }
      switch (result.status) {
        case 'granted': {
          this.checkNotClosed(name, requestId, o.ttlMs)
          const lease = this.makeLease(name, o, requestId, result.token, sentAt)
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
          const lease = this.makeLease(name, o, requestId, waited.token, waited.sentAt)
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
          throw new LeaseError('INVALID_ARGUMENT', `the lease table had already settled request ${requestId} of client ${this.clientId}: another Leases client uses the same clientId`)
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
  private async waitInQueue(
    name: string,
    requestId: number,
    o: { ttlMs: number; waitUntil: number; signal: AbortSignal | undefined },
    queuedSentAt: number,
  ): Promise<{ token: number; sentAt: number; byHint: boolean } | 'again' | 'ask'> {
    let lastQueued = queuedSentAt
    for (;;) {
      if (this.closed || o.signal?.aborted || this.clock.now() >= o.waitUntil) return 'ask'
      const poll = new QueuePoll(name, requestId, o.ttlMs)
      this.renewals.schedule(poll, lastQueued + o.ttlMs / 3)
      const stop = new AbortController()
      const onAbort = () => stop.abort()
      o.signal?.addEventListener('abort', onAbort, { once: true })
      const hinted = this.waits.waitForGrant(requestId, Math.max(0, o.waitUntil - this.clock.now()), stop.signal, lastQueued)
      const first = await Promise.race([hinted.then((hint) => ({ hint })), poll.answer.then((answer) => ({ answer }))])
      stop.abort()
      o.signal?.removeEventListener('abort', onAbort)
      poll.end()
      this.renewals.cancel(poll)
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

  /** A lease whose deadline counts from `sentAtMs`, or null (and nothing made) if that deadline already passed. */
  private makeLease(name: string, o: { ttlMs: number; mode: LeaseMode; value: string | null }, requestId: number, token: number, sentAtMs: number): Lease | null {
    if (this.clock.now() >= sentAtMs + o.ttlMs - marginMs(o.ttlMs, this.margin)) return null
    // Not checked again: the clock moves on, and a deadline passed meanwhile fires the lease's own timer.
    const lease = new Lease(this.owner, { name, mode: o.mode, token, ttlMs: o.ttlMs, value: o.value, requestId, sentAtMs })
    this.heldLeases.add(lease)
    this.counters.granted++
    this.stalls.start(Math.max(5, lease.marginMs / 2))
    lease.startKeepAlive(sentAtMs + o.ttlMs / 3 - this.clock.now())
    return lease
  }

  /** Throws (and gives the queue place up in the background, if a request went out) when the caller stops waiting. */
  private checkAcquire(name: string, requestId: number, waitUntil: number, signal: AbortSignal | undefined, ttlMs: number, sent: boolean): void {
    let error: LeaseError | null = null
    if (this.closed) error = new LeaseError('CLOSED', 'the Leases client was closed')
    else if (signal?.aborted) error = new LeaseError('LEASE_ABORTED', `acquire of ${name} was aborted`, { cause: signal.reason })
    else if (this.clock.now() >= waitUntil) error = new LeaseError('LEASE_TIMEOUT', `${name} was not granted in time`)
    if (error === null) return
    if (sent) void this.releaseRequest(name, requestId, ttlMs)
    throw error
  }

  /** A grant that arrives after close() is given back, not handed out. */
  private checkNotClosed(name: string, requestId: number, ttlMs: number): void {
    if (!this.closed) return
    void this.releaseRequest(name, requestId, ttlMs)
    throw new LeaseError('CLOSED', 'the Leases client was closed')
  }

  private onHint(hint: GrantHint): void {
    if (hint.clientId !== this.clientId) return
    this.waits.grant(hint)
  }

  private settledBelow(): number {
    let low = this.nextRequestId
    for (const id of this.pending) if (id < low) low = id
    return low
  }

  // ---- requests ----

  private propose(command: LeaseCommand, timeoutMs: number): Promise<unknown> {
    return this.group.propose(command, { timeoutMs })
  }

  /** One `renew` command for `items`: a status per item, or a thrown error for the whole command. */
  private async sendRenewals(items: readonly Renewable[], timeoutMs: number): Promise<EntryStatus[]> {
    const command: RenewCommand = { op: 'renew', clientId: this.clientId, items: items.map((l) => ({ name: l.name, requestId: l.requestId })) }
    const result = (await this.propose(command, timeoutMs)) as RenewResult
    if (result.status === 'done' && Array.isArray(result.items) && result.items.length === items.length) return result.items
    // The table took none of it (more items than its maxRenewItems): retrying the same batch cannot help,
    // so the leases in it are lost at once (INVALID_ARGUMENT is not retried) rather than after their TTL.
    const reason = result.status === 'done' ? `${result.items?.length} answers for ${items.length} items` : result.reason
    throw new LeaseError('INVALID_ARGUMENT', `the lease table refused a keep-alive of ${items.length} leases (is maxRenewItems above the table's?): ${reason}`)
  }

  /** Releases (or cancels) a request on the server, retrying for up to its TTL (after that the leader expires it anyway). */
  private async releaseRequest(name: string, requestId: number, ttlMs: number): Promise<void> {
    const giveUpAt = this.clock.now() + ttlMs
    for (let failures = 0; this.clock.now() < giveUpAt; ) {
      try {
        await this.propose({ op: 'release', name, clientId: this.clientId, requestId }, this.requestTimeoutMs)
        return
      } catch (err) {
        if (!isRetryable(err)) return
        await this.waits.sleep(this.backoffMs(failures++))
      }
    }
  }

  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    for (let failures = 0; ; ) {
      if (this.closed) throw new LeaseError('CLOSED', 'the Leases client was closed')
      try {
        return await fn()
      } catch (err) {
        if (!isRetryable(err) || failures >= 20) throw this.unavailable(err)
        await this.waits.sleep(this.backoffMs(failures++))
      }
    }
  }

  private backoffMs(failures: number): number {
    const base = Math.min(this.backoff.max, this.backoff.min * 2 ** Math.min(failures, 20))
    return base / 2 + this.system.random() * (base / 2)
  }

  private unavailable(err: unknown): LeaseError {
    if (err instanceof LeaseError) return err
    const code = errorCode(err)
    if (code === 'INVALID_ARGUMENT') return new LeaseError('INVALID_ARGUMENT', String(err), { cause: err })
    return new LeaseError('UNAVAILABLE', `the lease group failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }

  private validate(name: string, ttlMs: number, mode: LeaseMode, o: AcquireOptions): void {
    const bad = (what: string) => new LeaseError('INVALID_ARGUMENT', what)
    if (typeof name !== 'string' || name.length === 0 || name.length > 1024) throw bad('name must be a non-empty string of at most 1024 characters')
    const ttl = ttlProblem(ttlMs, this.margin)
    if (ttl !== null) throw bad(ttl)
    if (mode !== 'exclusive' && mode !== 'shared') throw bad(`mode must be 'exclusive' or 'shared'`)
    if (o.waitMs !== undefined && !(o.waitMs >= 0)) throw bad(`waitMs must be >= 0, got ${o.waitMs}`)
    if (o.value !== undefined && (typeof o.value !== 'string' || o.value.length > 4096)) throw bad('value must be a string of at most 4096 characters')
  }

  private makeOwner(): LeaseOwner {
    return {
      clock: this.clock,
      margin: this.margin,
      scheduleRenewal: (lease, atMs) => this.renewals.schedule(lease, atMs),
      retryable: isRetryable,
      releaseOnServer: (lease) => this.releaseRequest(lease.name, lease.requestId, lease.ttlMs),
      ended: (lease) => {
        this.renewals.cancel(lease)
        this.heldLeases.delete(lease)
        if (this.heldLeases.size === 0) this.stalls.stop()
      },
    }
  }
}
