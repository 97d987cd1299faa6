import { defineActor } from '@troupe/runtime'
import type { ActorRef, ActorSystem } from '@troupe/runtime'
import type { WatchAnswer, WatchRequest } from '../core/commands.js'
import type { LeaseTable } from '../core/lease-table.js'
import type { LeaseReplica } from './group-handle.js'
import { inboxAddress, parseInboxAddress } from './inbox-protocol.js'
import type { InboxProtocol, WatchAck, WatchServiceProtocol } from './inbox-protocol.js'
import { WatchRegistry } from './watch-registry.js'
import type { WatchLimits } from './watch-registry.js'

export type WatchServiceOptions = Partial<WatchLimits> & {
  /** How often watchers hear that this member is current, in ms (default 1,000); clients give up on it after their `watchTimeoutMs`. */
  beatMs?: number
}

/** What the watch service reads from the lease service it belongs to. */
export interface WatchHost {
  /** The table this node's replica applies to (null before the group opened). */
  readonly table: LeaseTable | null
  /** The lease service was stopped, or its actor system is terminating. */
  readonly stopped: boolean
}

/** Entries per beat message (a client with more subscriptions here gets several). */
const MAX_BEAT_ENTRIES = 1000
/** A subscription nobody acknowledged for this many beats is dropped. */
const WATCH_EXPIRY_BEATS = 5

/**
 * Pushed watches on one member: a read through this member's replica that
 * carries a watch request subscribes the client's inbox to the name; every
 * holder change the replica applies is pushed to its subscribers, numbered
 * per subscription; every `beatMs` the member proves its replica current
 * (a read) and tells each inbox the last number it sent.
 */
export class WatchService {
  readonly stats = { eventsSent: 0, beatsSent: 0 }
  private readonly watchers: WatchRegistry
  private readonly beatMs: number
  private replica: LeaseReplica | null = null
  private actor: ActorRef<WatchServiceProtocol> | null = null
  /** This member's watch actor as clients address it (null until attached). */
  private address: string | null = null

  constructor(
    private readonly system: ActorSystem,
    private readonly host: WatchHost,
    options: WatchServiceOptions = {},
  ) {
    this.beatMs = options.beatMs ?? 1000
    if (!(this.beatMs > 0)) throw new RangeError(`watch.beatMs must be > 0, got ${this.beatMs}`)
    this.watchers = new WatchRegistry({
      maxWatchersPerName: options.maxWatchersPerName ?? 1000,
      maxWatchers: options.maxWatchers ?? 100_000,
      maxWatchersPerInbox: options.maxWatchersPerInbox ?? 10_000,
    })
  }

  /** Watchers registered here now. */
  get size(): number {
    return this.watchers.size
  }

  /** Starts the watch actor (`lease-watch-<n>`), which beats through `replica` and takes acknowledgements. */
  attach(replica: LeaseReplica, n: number): void {
    this.replica = replica
    this.actor = this.system.spawnSystemActor(this.actorDef(), { name: `lease-watch-${n}` })
    this.address = inboxAddress(this.system.name, this.actor.path)
  }

  async stop(): Promise<void> {
    if (this.actor !== null) await this.system.stop(this.actor).catch(() => undefined)
    this.actor = null
    this.watchers.clear()
  }

  /** A read through this replica asked for the changes of `name`: they are pushed from the next apply on. */
  subscribe(name: string, request: WatchRequest): WatchAnswer {
    if (this.host.stopped || this.address === null) return { status: 'unavailable' }
    if (parseInboxAddress(request.inbox) === null) return { status: 'invalid' }
    if (!this.watchers.add(name, request.inbox, request.subId, this.system.clock.now())) return { status: 'full' }
    return { status: 'accepted', by: this.address }
  }

  /** Tells every watcher of `name` its state as this replica just applied it. */
  push(name: string): void {
    const subs = this.watchers.of(name)
    const table = this.host.table
    if (subs.size === 0 || table === null || this.address === null) return
    const info = table.info(name)
    for (const sub of subs) {
      sub.seq++
      this.tell(sub.inbox, 'watchEvent', { from: this.address, subId: sub.subId, seq: sub.seq, info })
      this.stats.eventsSent++
    }
  }

  /** The table was replaced from a snapshot: every watched name may have changed. */
  pushAll(): void {
    for (const name of [...this.watchers.names()]) this.push(name)
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
    if (replica === null || this.host.stopped || this.address === null) return
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
        this.tell(inbox, 'watchBeat', { from: this.address, subs: entries.slice(i, i + MAX_BEAT_ENTRIES) })
        this.stats.beatsSent++
      }
    }
  }

  private actorDef() {
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
}
