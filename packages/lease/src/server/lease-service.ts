import { defineActor, InvariantError } from '@troupe/runtime'
import type { ActorRef, ActorSystem } from '@troupe/runtime'
import type { ExpireCommand, LeaseResult } from '../core/commands.js'
import { ExpiryJudge } from '../core/expiry-judge.js'
import { DEFAULT_TABLE_OPTIONS, LeaseTable } from '../core/lease-table.js'
import type { LeaseTableListener, LeaseTableOptions } from '../core/lease-table.js'
import type { LeaseReplica } from './group-handle.js'
import { parseInboxAddress } from './inbox-protocol.js'
import type { GrantHint, InboxProtocol } from './inbox-protocol.js'
import { WatchService } from './watch-service.js'
import type { WatchServiceOptions } from './watch-service.js'

export interface LeaseServiceOptions {
  /** Limits of the table; equal on every member. */
  table?: LeaseTableOptions
  /** How often the leader looks for due entries, in ms (default 100). Adds to the time a crashed holder's lease takes to free. */
  reapIntervalMs?: number
  /** Timeout of the service's own proposals, in ms (default 2000). */
  proposeTimeoutMs?: number
  /** Pushed watches served by this member. */
  watch?: WatchServiceOptions
}

/**
 * Lease services started per system, to name each one's actors. Counted per
 * system, not per process, so a simulated node's actor paths (which go on the
 * wire) depend only on that node's history: a seed replays alone as it ran
 * among others.
 */
const servicesBySystem = new WeakMap<ActorSystem, number>()

/** Grants applied while this member did not know it led, kept to hint once it finds it does (oldest dropped beyond this). */
const MAX_UNHINTED = 1024

export interface LeaseServiceStats {
  rounds: number
  expiresProposed: number
  entriesExpired: number
  hintsSent: number
  /** Watch events (holder changes) and beats pushed to clients, and the watchers now registered here. */
  watchEventsSent: number
  watchBeatsSent: number
  watchers: number
}

/**
 * The lease table's host on one member node of the group. It hands the
 * group a table (`stateMachine`); while this node's replica leads, it judges
 * expiry by this node's clock (`ExpiryJudge`) and proposes `expire` for the
 * entries whose TTL passed since it first saw their last renewal; and it
 * sends `granted` hints to waiters that a release or expiry promoted. The
 * pushed watches this member serves are its `WatchService`.
 *
 * Whether this replica leads is known only by asking it (at each reap
 * round), so right after leadership moves the new leader may apply a grant
 * before it knows it leads, and the old one after it knows it no longer
 * does. A grant applied while the replica was not known to lead is kept
 * (bounded, for two reap rounds); if it was written in a newer term than the replica last
 * reported, the replica is asked at once. If it leads, or at the first
 * round that finds it leading, the hint goes out for every kept grant whose
 * entry still holds with that token. A hint from a replica that no longer
 * leads is harmless: it reports a committed grant, and the client counts
 * the lease from a request that applied before it.
 */
export class LeaseService {
  private readonly counters = { rounds: 0, expiresProposed: 0, entriesExpired: 0, hintsSent: 0 }
  private readonly reapIntervalMs: number
  private readonly proposeTimeoutMs: number
  private readonly tableOptions: LeaseTableOptions
  private currentTable: LeaseTable | null = null
  private replica: LeaseReplica | null = null
  private readonly judge = new ExpiryJudge()
  private leadingNow = false
  private actor: ActorRef | null = null
  private stopped = false
  private readonly listener: LeaseTableListener
  private readonly watches: WatchService
  /** Grants applied while this replica was not known to lead, by entry: hinted if it turns out to lead. */
  private readonly unhinted = new Map<string, { inbox: string; hint: GrantHint; round: number }>()
  private checkingRole = false
  /** The term this replica reported when last asked. */
  private knownTerm = 0
  /** A grant was kept while a role question was out: ask again when it is answered. */
  private recheckRole = false

  constructor(
    private readonly system: ActorSystem,
    options: LeaseServiceOptions = {},
  ) {
    this.reapIntervalMs = options.reapIntervalMs ?? 100
    this.proposeTimeoutMs = options.proposeTimeoutMs ?? 2000
    this.tableOptions = options.table ?? {}
    if (!(this.reapIntervalMs > 0)) throw new RangeError(`reapIntervalMs must be > 0, got ${this.reapIntervalMs}`)
    const service = this
    this.watches = new WatchService(system, {
      get table() {
        return service.currentTable
      },
      get stopped() {
        return service.stopped
      },
    }, options.watch)
    this.listener = {
      granted: (name, entry, term) => {
        if (entry.inbox === null) return
        const hint: GrantHint = { name, clientId: entry.clientId, requestId: entry.requestId, token: entry.token }
        if (this.leadingNow) return this.hint(entry.inbox, hint)
        this.keepUnhinted(entry.inbox, hint)
        // A command of a newer term than this replica last saw: leadership moved since, maybe here.
        if (term > this.knownTerm) this.checkRole()
      },
      changed: (name) => this.watches.push(name),
      watch: (name, request) => this.watches.subscribe(name, request),
      restored: () => this.watches.pushAll(),
    }
  }

  get stats(): LeaseServiceStats {
    const w = this.watches
    return { ...this.counters, watchEventsSent: w.stats.eventsSent, watchBeatsSent: w.stats.beatsSent, watchers: w.size }
  }

  /** The state machine factory to give the Raft group (it may call it again, e.g. before a restore). */
  readonly stateMachine = (): LeaseTable => {
    const table = new LeaseTable(this.tableOptions)
    table.setListener(this.listener)
    this.currentTable = table
    return table
  }

  /** Whether this node's replica led the group when last asked (at a reap round, or after a grant it applied). */
  get leading(): boolean {
    return this.leadingNow
  }

  /** The table this node's replica applies to (null before the group opened). */
  get table(): LeaseTable | null {
    return this.currentTable
  }

  /**
   * Starts judging expiry through this node's replica. The rounds run in a
   * system actor, so they stop when the actor system terminates.
   */
  attach(replica: LeaseReplica): void {
    if (this.replica !== null) throw new InvariantError('LeaseService.attach called twice')
    this.replica = replica
    const interval = this.reapIntervalMs
    const def = defineActor({
      name: 'lease-service',
      initial: () => null,
      onStart: (_s, ctx) => ctx.timers.startSingle('reap', interval, 'reap', undefined),
      onStop: () => {
        this.stopped = true
      },
      handlers: {
        reap: async (_s, _p: void, ctx) => {
          // One round at a time: the next is timed from the end of this one.
          await this.round().catch(() => undefined)
          ctx.timers.startSingle('reap', interval, 'reap', undefined)
        },
      },
      supervision: { onFailure: 'resume' },
    })
    const n = (servicesBySystem.get(this.system) ?? 0) + 1
    servicesBySystem.set(this.system, n)
    this.actor = this.system.spawnSystemActor(def, { name: `lease-service-${n}` })
    this.watches.attach(replica, n)
  }

  /** Stops judging expiry on this node (the group goes on). */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.actor !== null) await this.system.stop(this.actor).catch(() => undefined)
    this.actor = null
    await this.watches.stop()
  }

  private async round(): Promise<void> {
    const replica = this.replica
    const table = this.currentTable
    if (replica === null || table === null || this.stopped) return
    this.counters.rounds++
    const role = await replica.role()
    this.leadingNow = role.leader
    this.knownTerm = Math.max(this.knownTerm, role.term)
    if (!role.leader) {
      this.judge.reset()
      this.forgetOldUnhinted()
      return
    }
    this.hintUnhinted(table)
    const max = this.tableOptions.maxExpireItems ?? DEFAULT_TABLE_OPTIONS.maxExpireItems
    const items = this.judge.judge(role.term, this.system.clock.now(), table.entries(), max)
    if (items.length === 0) return
    const command: ExpireCommand = { op: 'expire', term: role.term, items }
    this.counters.expiresProposed++
    const result = (await replica.propose(command, { timeoutMs: this.proposeTimeoutMs })) as LeaseResult
    if (result.status === 'done' && 'expired' in result) this.counters.entriesExpired += result.expired
  }

  private keepUnhinted(inbox: string, hint: GrantHint): void {
    const key = `${hint.name}\u0000${hint.clientId}\u0000${hint.requestId}`
    this.unhinted.delete(key)
    this.unhinted.set(key, { inbox, hint, round: this.counters.rounds })
    if (this.unhinted.size > MAX_UNHINTED) this.unhinted.delete(this.unhinted.keys().next().value as string)
  }

  /**
   * At a round that found this replica following: grants kept before the
   * previous round are forgotten. A leader that stayed in place hinted them;
   * the ones at risk are those applied around a move, which a new leader's
   * first rounds (or the role question) still find.
   */
  private forgetOldUnhinted(): void {
    for (const [key, kept] of this.unhinted) if (kept.round < this.counters.rounds - 1) this.unhinted.delete(key)
  }

  /** Asks the replica whether it leads (one question at a time); if it does, sends the kept hints. */
  private checkRole(): void {
    const replica = this.replica
    if (replica === null || this.stopped) return
    if (this.checkingRole) {
      this.recheckRole = true
      return
    }
    this.checkingRole = true
    this.recheckRole = false
    void (async () => {
      try {
        const role = await replica.role()
        this.leadingNow = role.leader
        this.knownTerm = Math.max(this.knownTerm, role.term)
        const table = this.currentTable
        if (role.leader && table !== null && !this.stopped) this.hintUnhinted(table)
      } catch {
        // The next reap round asks again.
      } finally {
        this.checkingRole = false
        if (this.recheckRole) this.checkRole()
      }
    })()
  }

  /** Sends the kept hints whose entries still hold with the granted token (this replica leads). */
  private hintUnhinted(table: LeaseTable): void {
    if (this.unhinted.size === 0) return
    const kept = [...this.unhinted.values()]
    this.unhinted.clear()
    for (const { inbox, hint } of kept) {
      const holds = table.info(hint.name).holders.some((h) => h.clientId === hint.clientId && h.requestId === hint.requestId && h.token === hint.token)
      if (holds) this.hint(inbox, hint)
    }
  }

  private hint(inbox: string, hint: GrantHint): void {
    const address = parseInboxAddress(inbox)
    if (address === null) return
    try {
      this.system.remoteRef<InboxProtocol>(address.node, address.path).tell('granted', hint)
      this.counters.hintsSent++
    } catch {
      // A hint is an optimisation: the waiter's next poll finds the grant.
    }
  }
}
