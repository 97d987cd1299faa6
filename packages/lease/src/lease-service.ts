import { defineActor, InvariantError } from '@troupe/runtime'
import type { ActorRef, ActorSystem } from '@troupe/runtime'
import type { ExpireCommand, LeaseResult, WatchAnswer, WatchRequest } from './commands.js'
import type { LeaseReplica } from './group.js'
import { inboxAddress, parseInboxAddress } from './inbox.js'
import type { GrantHint, InboxProtocol, WatchAck, WatchServiceProtocol } from './inbox.js'
import { WatchRegistry } from './internal/watch-registry.js'
import type { WatchLimits } from './internal/watch-registry.js'
import { ExpiryJudge } from './expiry-judge.js'
import { DEFAULT_TABLE_OPTIONS, LeaseTable } from './lease-table.js'
import type { LeaseTableListener, LeaseTableOptions } from './lease-table.js'

export interface LeaseServiceOptions {
  /** Limits of the table; equal on every member. */
  table?: LeaseTableOptions
  /** How often the leader looks for due entries, in ms (default 100). Adds to the time a crashed holder's lease takes to free. */
  reapIntervalMs?: number
  /** Timeout of the service's own proposals, in ms (default 2000). */
  proposeTimeoutMs?: number
  /** Pushed watches served by this member. */
  watch?: Partial<WatchLimits> & {
    /** How often watchers hear that this member is current, in ms (default 1,000); clients give up on it after their `watchTimeoutMs`. */
    beatMs?: number
  }
}

let serviceCount = 0

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

/** Entries per beat message (a client with more subscriptions here gets several). */
const MAX_BEAT_ENTRIES = 1000
/** A subscription nobody acknowledged for this many beats is dropped. */
const WATCH_EXPIRY_BEATS = 5

/**
 * The lease table's host on one member node of the group. It hands the
 * group a table (`stateMachine`); while this node's replica leads, it judges
 * expiry by this node's clock (`ExpiryJudge`) and proposes `expire` for the
 * entries whose TTL passed since it first saw their last renewal; and it
 * sends `granted` hints to waiters that a release or expiry promoted.
 */
export class LeaseService {
  private readonly counters = { rounds: 0, expiresProposed: 0, entriesExpired: 0, hintsSent: 0, watchEventsSent: 0, watchBeatsSent: 0 }
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
  private readonly watchers: WatchRegistry
  private readonly beatMs: number
  private watchActor: ActorRef<WatchServiceProtocol> | null = null
  /** This member's watch actor as clients address it (null until attached). */
  private watchAddress: string | null = null

  constructor(
    private readonly system: ActorSystem,
    options: LeaseServiceOptions = {},
  ) {
    this.reapIntervalMs = options.reapIntervalMs ?? 100
    this.proposeTimeoutMs = options.proposeTimeoutMs ?? 2000
    this.tableOptions = options.table ?? {}
    if (!(this.reapIntervalMs > 0)) throw new RangeError(`reapIntervalMs must be > 0, got ${this.reapIntervalMs}`)
    this.beatMs = options.watch?.beatMs ?? 1000
    if (!(this.beatMs > 0)) throw new RangeError(`watch.beatMs must be > 0, got ${this.beatMs}`)
    this.watchers = new WatchRegistry({
      maxWatchersPerName: options.watch?.maxWatchersPerName ?? 1000,
      maxWatchers: options.watch?.maxWatchers ?? 100_000,
      maxWatchersPerInbox: options.watch?.maxWatchersPerInbox ?? 10_000,
    })
    this.listener = {
      granted: (name, entry) => {
        if (this.leadingNow && entry.inbox !== null) this.hint(entry.inbox, { name, clientId: entry.clientId, requestId: entry.requestId, token: entry.token })
      },
      changed: (name) => this.push(name),
      watch: (name, request) => this.subscribe(name, request),
      restored: () => {
        for (const name of [...this.watchers.names()]) this.push(name)
      },
    }
  }

  get stats(): LeaseServiceStats {
    return { ...this.counters, watchers: this.watchers.size }
  }

  /** The state machine factory to give the Raft group (it may call it again, e.g. before a restore). */
  readonly stateMachine = (): LeaseTable => {
    const table = new LeaseTable(this.tableOptions)
    table.setListener(this.listener)
    this.currentTable = table
    return table
  }

  /** Whether this node's replica led the group at the last reap round. */
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
    const n = ++serviceCount
    this.actor = this.system.spawnSystemActor(def, { name: `lease-service-${n}` })
    this.watchActor = this.system.spawnSystemActor(this.watchActorDef(), { name: `lease-watch-${n}` })
    this.watchAddress = inboxAddress(this.system.name, this.watchActor.path)
  }

  /** Stops judging expiry on this node (the group goes on). */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.actor !== null) await this.system.stop(this.actor).catch(() => undefined)
    if (this.watchActor !== null) await this.system.stop(this.watchActor).catch(() => undefined)
    this.actor = null
    this.watchActor = null
    this.watchers.clear()
  }

  private async round(): Promise<void> {
    const replica = this.replica
    const table = this.currentTable
    if (replica === null || table === null || this.stopped) return
    this.counters.rounds++
    const role = await replica.role()
    this.leadingNow = role.leader
    if (!role.leader) {
      this.judge.reset()
      return
    }
    const max = this.tableOptions.maxExpireItems ?? DEFAULT_TABLE_OPTIONS.maxExpireItems
    const items = this.judge.judge(role.term, this.system.clock.now(), table.entries(), max)
    if (items.length === 0) return
    const command: ExpireCommand = { op: 'expire', term: role.term, items }
    this.counters.expiresProposed++
    const result = (await replica.propose(command, { timeoutMs: this.proposeTimeoutMs })) as LeaseResult
    if (result.status === 'done' && 'expired' in result) this.counters.entriesExpired += result.expired
  }

  // ---- pushed watches ----

  /** A read through this replica asked for the changes of `name`: they are pushed from the next apply on. */
  private subscribe(name: string, request: WatchRequest): WatchAnswer {
    if (this.stopped || this.watchAddress === null) return { status: 'unavailable' }
    if (parseInboxAddress(request.inbox) === null) return { status: 'invalid' }
    if (!this.watchers.add(name, request.inbox, request.subId, this.system.clock.now())) return { status: 'full' }
    return { status: 'accepted', by: this.watchAddress }
  }

  /** Tells every watcher of `name` its state as this replica just applied it. */
  private push(name: string): void {
    const subs = this.watchers.of(name)
    const table = this.currentTable
    if (subs.size === 0 || table === null || this.watchAddress === null) return
    const info = table.info(name)
    for (const sub of subs) {
      sub.seq++
      this.tell(sub.inbox, 'watchEvent', { from: this.watchAddress, subId: sub.subId, seq: sub.seq, info })
      this.counters.watchEventsSent++
    }
  }

  /**
   * Every beat, while anyone watches here: a read through this replica
   * proves it has applied everything committed before now (so every change
   * up to now was pushed); only then are watchers told the seq they should
   * have reached. A replica cut off from the leader fails the read and goes
   * quiet, and its watchers move on.
   */
  private async beat(): Promise<void> {
    const replica = this.replica
    if (replica === null || this.stopped || this.watchAddress === null) return
    this.watchers.expire(this.system.clock.now() - WATCH_EXPIRY_BEATS * this.beatMs)
    if (this.watchers.size === 0) return
    try {
      await replica.read({ op: 'get', name: '' }, { timeoutMs: this.beatMs })
    } catch {
      return
    }
    for (const [inbox, subs] of this.watchers.inboxes()) {
      const entries: Array<[number, number]> = [...subs.values()].map((s) => [s.subId, s.seq])
      for (let i = 0; i < entries.length; i += MAX_BEAT_ENTRIES) {
        this.tell(inbox, 'watchBeat', { from: this.watchAddress, subs: entries.slice(i, i + MAX_BEAT_ENTRIES) })
        this.counters.watchBeatsSent++
      }
    }
  }

  private watchActorDef() {
    const beatMs = this.beatMs
    return defineActor({
      name: 'lease-watch',
      initial: () => null,
      onStart: (_s, ctx) => ctx.timers.startSingle('beat', beatMs, 'beat', undefined),
      handlers: {
        beat: async (_s, _p: void, ctx) => {
          // Beats keep their cadence whatever the read took; one at a time.
          const startedMs = this.system.clock.now()
          await this.beat().catch(() => undefined)
          ctx.timers.startSingle('beat', Math.max(0, beatMs - (this.system.clock.now() - startedMs)), 'beat', undefined)
        },
        watchAck: (_s, ack: WatchAck) => {
          if (typeof ack !== 'object' || ack === null || typeof ack.inbox !== 'string' || !Array.isArray(ack.keep) || !Array.isArray(ack.drop)) return
          this.watchers.ack(ack.inbox, ack.keep, ack.drop, this.system.clock.now())
        },
      },
      supervision: { onFailure: 'resume' },
      mailbox: { capacity: 10_000, overflow: 'drop' },
    })
  }

  private tell<K extends keyof InboxProtocol>(inbox: string, kind: K, message: Parameters<InboxProtocol[K]>[0]): void {
    const address = parseInboxAddress(inbox)
    if (address === null) return
    try {
      this.system.remoteRef<InboxProtocol>(address.node, address.path).tell(kind, message as never)
    } catch {
      // A push is best effort: the client's beat check or timeout finds what it missed.
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
