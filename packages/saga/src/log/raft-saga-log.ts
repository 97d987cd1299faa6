import type { ApplyMeta, GroupOptions, RaftGroup, StateMachine } from '@troupe/raft'
import { group } from '@troupe/raft'
import type { ActorSystem } from '@troupe/runtime'
import { SagaError } from '../errors.js'
import type { SagaRecord } from '../records.js'
import type { AppendRequest, SagaLog } from './saga-log.js'
import { SagaStore } from './saga-store.js'
import type { AppendOutcome, SagaStoreOptions } from './saga-store.js'

export type SagaLogCommand = { op: 'append'; id: string; seq: number; records: SagaRecord[] }
export type SagaLogQuery = { op: 'read'; id: string } | { op: 'unfinished' }

/**
 * The saga store as a Raft state machine: compare-and-append commands, reads
 * of one history or of the unfinished ids. Deterministic (no clocks: the
 * records carry their writers' times).
 */
export class SagaStateMachine implements StateMachine<SagaLogCommand, AppendOutcome, SagaLogQuery, SagaRecord[] | string[] | null> {
  private readonly store: SagaStore

  constructor(options: SagaStoreOptions = {}) {
    this.store = new SagaStore(options)
  }

  apply(command: SagaLogCommand, _meta: ApplyMeta): AppendOutcome {
    if (command?.op !== 'append' || typeof command.id !== 'string' || !Number.isSafeInteger(command.seq) || !Array.isArray(command.records)) {
      throw new Error('not a saga log command')
    }
    return this.store.append(command.id, command.seq, command.records)
  }

  snapshot(): unknown {
    return this.store.snapshot()
  }

  restore(snapshot: unknown): void {
    this.store.restore(snapshot)
  }

  query(query: SagaLogQuery): SagaRecord[] | string[] | null {
    if (query?.op === 'unfinished') return this.store.unfinished()
    if (query?.op === 'read') {
      const history = this.store.read(query.id)
      return history ? [...history] : null
    }
    throw new Error('not a saga log query')
  }
}

export interface RaftSagaLogOptions extends SagaStoreOptions, Omit<GroupOptions, 'stateMachine'> {
  /** Whether this node keeps a replica (default: it is in `members` or `learners`). Others forward. */
  replica?: boolean
}

type Group = RaftGroup<SagaLogCommand, AppendOutcome, SagaLogQuery, SagaRecord[] | string[] | null>

/** Raft errors after which the command may still apply (or certainly did not): try the same append again. */
const unavailable = new Set(['NOT_LEADER', 'TIMEOUT', 'OVERLOADED', 'SESSION_EXPIRED', 'ASK_TIMEOUT', 'NODE_UNREACHABLE', 'ACTOR_NOT_FOUND', 'BACKPRESSURE', 'MAILBOX_FULL'])

/**
 * A SagaLog on a Raft group: an append is durable (fdatasynced on a
 * majority) when it resolves, and every node of the cluster reads the same
 * histories, so any node can take over a saga whose coordinator died. The
 * default for clusters.
 *
 * Raft errors map to LOG_UNAVAILABLE (no leader, no quorum, timeouts: the
 * append may still apply; coordinators retry it and recognise their own
 * records) or LOG_FAILED (the group is stopped on this node).
 */
export class RaftSagaLog implements SagaLog {
  private constructor(
    private readonly group: Group,
    private readonly owned: boolean,
  ) {}

  /** Opens (or joins) the saga group on this node. Every member must use the same `id`, `members` and `retainFinished`. */
  static async open(system: ActorSystem, options: RaftSagaLogOptions): Promise<RaftSagaLog> {
    const { retainFinished, replica, ...groupOptions } = options
    const isReplica = replica ?? (options.members.includes(system.name) || (options.learners ?? []).includes(system.name))
    const handle = await group(system, {
      ...groupOptions,
      ...(isReplica ? { stateMachine: () => new SagaStateMachine({ retainFinished }) } : {}),
    })
    return new RaftSagaLog(handle as unknown as Group, true)
  }

  /** A log over a group opened elsewhere with `new SagaStateMachine(...)` as its state machine. */
  static over(handle: Group): RaftSagaLog {
    return new RaftSagaLog(handle, false)
  }

  async append(req: AppendRequest): Promise<void> {
    let outcome: AppendOutcome
    try {
      outcome = await this.group.propose({ op: 'append', id: req.id, seq: req.seq, records: req.records })
    } catch (err) {
      throw mapError(err, `append to ${req.id}`)
    }
    if (!outcome.ok) throw new SagaError('LOG_CONFLICT', `history of ${req.id} has ${outcome.length} records, not ${req.seq}`)
  }

  async read(id: string): Promise<SagaRecord[] | null> {
    try {
      return (await this.group.read({ op: 'read', id })) as SagaRecord[] | null
    } catch (err) {
      throw mapError(err, `read of ${id}`)
    }
  }

  async unfinished(): Promise<string[]> {
    try {
      return (await this.group.read({ op: 'unfinished' })) as string[]
    } catch (err) {
      throw mapError(err, 'read of unfinished sagas')
    }
  }

  async close(): Promise<void> {
    if (this.owned) await this.group.stop()
  }
}

function mapError(err: unknown, what: string): SagaError {
  const code = (err as { code?: unknown } | null)?.code
  const message = `${what}: ${(err as Error)?.message ?? String(err)}`
  if (typeof code === 'string' && unavailable.has(code)) return new SagaError('LOG_UNAVAILABLE', message, { cause: err })
  if (code === 'INVALID_ARGUMENT') return new SagaError('INVALID_ARGUMENT', message, { cause: err })
  return new SagaError('LOG_FAILED', message, { cause: err })
}
