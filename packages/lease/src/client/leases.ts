import type { ActorRef, ActorSystem, Clock } from '@troupe/runtime'
import { InvariantError } from '@troupe/runtime'
import type { LeaseQueryResult, NameInfo } from '../core/commands.js'
import { Election } from '../election.js'
import type { ElectionLeader } from '../election.js'
import { LeaseError } from '../lease-error.js'
import type { LeaseGroup } from '../server/group-handle.js'
import { inboxAddress, parseInboxAddress } from '../server/inbox-protocol.js'
import type { InboxProtocol, WatchServiceProtocol } from '../server/inbox-protocol.js'
import { Acquisitions } from './acquire.js'
import { GroupRequests } from './group-requests.js'
import { HeldLeases } from './held-leases.js'
import { inboxDef } from './inbox.js'
import { ttlProblem } from './lease.js'
import type { DriftMargin, Lease } from './lease.js'
import { checkName, driftMarginOf } from './options.js'
import type { AcquireOptions, LeasesOptions, LeasesStats, WatchOptions } from './options.js'
import { Renewals } from './renewals.js'
import { Waits } from './waits.js'
import { WatchHub } from './watch-hub.js'

/**
 * The lease client of one node. Leases live in a lease table replicated by
 * a Raft group (`group`); this client acquires, keeps alive and releases
 * them, and turns the group's answers into a local deadline per lease.
 */
export class Leases {
  readonly clientId: string
  readonly clock: Clock
  readonly margin: DriftMargin
  private readonly watchPollMs: number
  private readonly inbox: ActorRef<InboxProtocol>
  private readonly waits: Waits
  private readonly requests: GroupRequests
  private readonly renewals: Renewals
  private readonly heldLeases: HeldLeases
  private readonly acquisitions: Acquisitions
  private readonly watches: WatchHub
  private closed = false
  readonly elections: Election

  constructor(
    readonly system: ActorSystem,
    readonly group: LeaseGroup,
    options: LeasesOptions = {},
  ) {
    const clock = (this.clock = system.clock)
    const suffix = Math.floor(system.random() * 2 ** 48).toString(36)
    const clientId = (this.clientId = options.clientId ?? `${system.name}/${suffix}`)
    const margin = (this.margin = driftMarginOf(options))
    const defaultTtlMs = options.defaultTtlMs ?? 10_000
    const requestTimeoutMs = options.requestTimeoutMs ?? 2_000
    const backoff = { min: options.retryBackoffMs?.min ?? 20, max: options.retryBackoffMs?.max ?? 1_000 }
    this.watchPollMs = options.watchPollMs ?? 250
    const defaultTtl = ttlProblem(defaultTtlMs, margin)
    if (defaultTtl !== null) throw new LeaseError('INVALID_ARGUMENT', `defaultTtlMs: ${defaultTtl}`)
    const closed = () => this.closed
    const waits = (this.waits = new Waits(clock))
    const random = () => system.random()
    const requests = (this.requests = new GroupRequests({ group, clientId, clock, random, waits, requestTimeoutMs, backoff, closed }))
    this.inbox = system.spawn(
      inboxDef(
        {
          granted: (hint) => this.acquisitions.onHint(hint),
          watchEvent: (event) => this.watches.onEvent(event),
          watchBeat: (beat) => this.watches.onBeat(beat),
        },
        () => void this.close(),
      ),
      { name: `lease-inbox-${suffix}` },
    )
    const inbox = inboxAddress(system.name, this.inbox.path)
    this.watches = watchHubOf(system, group, inbox, requests, waits, { ...options, requestTimeoutMs })
    const maxRenewItems = options.maxRenewItems ?? 1000
    if (!(Number.isSafeInteger(maxRenewItems) && maxRenewItems >= 1)) throw new LeaseError('INVALID_ARGUMENT', `maxRenewItems must be an integer >= 1, got ${maxRenewItems}`)
    const renewals = (this.renewals = new Renewals(clock, (items, timeoutMs) => requests.renew(items, timeoutMs), { maxItems: maxRenewItems, requestTimeoutMs }))
    const held = (this.heldLeases = new HeldLeases({
      clock, margin, renewals,
      retryable: (err) => requests.retryable(err),
      releaseOnServer: (name, requestId, ttlMs) => requests.release(name, requestId, ttlMs),
    }))
    this.acquisitions = new Acquisitions({
      clock, clientId, inbox, margin, defaultTtlMs, requestTimeoutMs, maxPendingAcquires: options.maxPendingAcquires ?? 10_000,
      requests, held, renewals, waits, closed,
    })
    this.elections = new Election(this)
  }

  /** Counters of this client, for diagnostics. */
  get stats(): LeasesStats {
    return {
      ...this.acquisitions.counters, renewCommands: this.renewals.stats.commands, renewItems: this.renewals.stats.items,
      watchRegistrations: this.watches.stats.registrations, watchEvents: this.watches.stats.events,
    }
  }

  /** Leases this client holds now. */
  held(): Lease[] {
    return this.heldLeases.list()
  }

  /** Acquires `name`, waiting in its FIFO queue up to `waitMs`. */
  async acquire(name: string, options: AcquireOptions = {}): Promise<Lease> {
    const lease = await this.acquisitions.acquire(name, options, true)
    if (lease === null) throw new InvariantError('acquire with wait returned no lease')
    return lease
  }

  /**
   * Acquires `name` only if it can be granted at once (nobody holds it
   * incompatibly, nobody queues); else null. It never queues; `waitMs` bounds
   * how long it keeps trying to reach the group (LEASE_TIMEOUT).
   */
  tryAcquire(name: string, options: AcquireOptions = {}): Promise<Lease | null> {
    return this.acquisitions.acquire(name, options, false)
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
    return (await this.requests.retrying(() => this.requests.read({ op: 'get', name }))) as NameInfo
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
    checkName(name)
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

  /**
   * Releases every lease this client holds now (their signals fire with
   * LEASE_RELEASED, their keep-alives stop, the group frees them so the next
   * waiter gets them at once rather than after the TTL) and resolves once
   * the group has taken each release (or gave up within its TTL). The
   * client stays usable; `close()` does this and also stops the client.
   */
  async releaseAll(): Promise<void> {
    await this.heldLeases.releaseAll()
  }

  /** Releases every held lease (as `releaseAll`) and stops; later calls fail with CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.waits.cancelAll(new LeaseError('CLOSED', 'the Leases client was closed'))
    this.watches.closeAll()
    await this.heldLeases.releaseAll()
    this.renewals.stop()
    this.heldLeases.stop()
    await this.system.stop(this.inbox).catch(() => undefined)
  }
}

/** The client side of pushed watches, wired to this client's group, inbox, retries and sleeps. */
function watchHubOf(system: ActorSystem, group: LeaseGroup, inbox: string, requests: GroupRequests, waits: Waits, options: LeasesOptions & { requestTimeoutMs: number }): WatchHub {
  return new WatchHub({
    clock: system.clock,
    inbox,
    read: async (query) => (await group.read(query, { timeoutMs: options.requestTimeoutMs })) as LeaseQueryResult,
    retryable: (err) => requests.retryable(err),
    fatal: (err) => requests.unavailable(err),
    backoffMs: (failures) => requests.backoffMs(failures),
    sleep: (ms) => waits.sleep(ms),
    ack: (to, ack) => {
      const address = parseInboxAddress(to)
      if (address === null) return
      try {
        system.remoteRef<WatchServiceProtocol>(address.node, address.path).tell('watchAck', ack)
      } catch {
        // Unacknowledged subscriptions expire on the member.
      }
    },
    timeoutMs: options.watchTimeoutMs ?? 3000,
    maxWatches: options.maxWatches ?? 10_000,
  })
}
