import { defineActor, InvariantError } from '@troupe/runtime'
import type { ActorRef, ActorSystem } from '@troupe/runtime'
import type { ExpireCommand, LeaseResult } from './commands.js'
import type { LeaseReplica } from './group.js'
import { parseInboxAddress } from './inbox.js'
import type { GrantHint, InboxProtocol } from './inbox.js'
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
}

let serviceCount = 0

export interface LeaseServiceStats {
  rounds: number
  expiresProposed: number
  entriesExpired: number
  hintsSent: number
}

/**
 * The lease table's host on one member node of the group. It hands the
 * group a table (`stateMachine`); while this node's replica leads, it judges
 * expiry by this node's clock (`ExpiryJudge`) and proposes `expire` for the
 * entries whose TTL passed since it first saw their last renewal; and it
 * sends `granted` hints to waiters that a release or expiry promoted.
 */
export class LeaseService {
  readonly stats: LeaseServiceStats = { rounds: 0, expiresProposed: 0, entriesExpired: 0, hintsSent: 0 }
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

  constructor(
    private readonly system: ActorSystem,
    options: LeaseServiceOptions = {},
  ) {
    this.reapIntervalMs = options.reapIntervalMs ?? 100
    this.proposeTimeoutMs = options.proposeTimeoutMs ?? 2000
    this.tableOptions = options.table ?? {}
    if (!(this.reapIntervalMs > 0)) throw new RangeError(`reapIntervalMs must be > 0, got ${this.reapIntervalMs}`)
    this.listener = {
      granted: (name, entry) => {
        if (this.leadingNow && entry.inbox !== null) this.hint(entry.inbox, { name, clientId: entry.clientId, requestId: entry.requestId, token: entry.token })
      },
      changed: () => {},
    }
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
    this.actor = this.system.spawnSystemActor(def, { name: `lease-service-${++serviceCount}` })
  }

  /** Stops judging expiry on this node (the group goes on). */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.actor !== null) await this.system.stop(this.actor).catch(() => undefined)
    this.actor = null
  }

  private async round(): Promise<void> {
    const replica = this.replica
    const table = this.currentTable
    if (replica === null || table === null || this.stopped) return
    this.stats.rounds++
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
    this.stats.expiresProposed++
    const result = (await replica.propose(command, { timeoutMs: this.proposeTimeoutMs })) as LeaseResult
    if (result.status === 'done' && 'expired' in result) this.stats.entriesExpired += result.expired
  }

  private hint(inbox: string, hint: GrantHint): void {
    const address = parseInboxAddress(inbox)
    if (address === null) return
    try {
      this.system.remoteRef<InboxProtocol>(address.node, address.path).tell('granted', hint)
      this.stats.hintsSent++
    } catch {
      // A hint is an optimisation: the waiter's next poll finds the grant.
    }
  }
}
