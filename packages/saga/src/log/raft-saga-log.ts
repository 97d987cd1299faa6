import type { ApplyMeta, GroupOptions, RaftGroup, StateMachine } from '@troupe/raft'
import { group } from '@troupe/raft'
import type { ActorSystem } from '@troupe/runtime'
import { errorCode, isRetryable } from '@troupe/runtime'
import { SagaError } from '../errors.js'
import type { SagaRecord } from '../records.js'
import type { AppendRequest, SagaLog } from './saga-log.js'
import { SagaStore } from './saga-store.js'
import type { AppendOutcome, SagaStoreOptions } from './saga-store.js'

export type SagaLogAppend = { id: string; seq: number; records: SagaRecord[] }
/** One append, or several (each compare-and-append on its own) carried by one Raft entry. */
export type SagaLogCommand = ({ op: 'append' } & SagaLogAppend) | { op: 'batch'; appends: SagaLogAppend[] }
export type SagaLogQuery = { op: 'read'; id: string } | { op: 'unfinished' }

/**
 * The saga store as a Raft state machine: compare-and-append commands, reads
 * of one history or of the unfinished ids. Deterministic (no clocks: the
 * records carry their writers' times).
 */
export class SagaStateMachine implements StateMachine<SagaLogCommand, AppendOutcome | AppendOutcome[], SagaLogQuery, SagaRecord[] | string[] | null> {
  private readonly store: SagaStore

  constructor(options: SagaStoreOptions = {}) {
    this.store = new SagaStore(options)
  }

  apply(command: SagaLogCommand, _meta: ApplyMeta): AppendOutcome | AppendOutcome[] {
    if (command?.op === 'batch' && Array.isArray(command.appends)) return command.appends.map((a) => this.appendOne(a))
    if (command?.op === 'append') return this.appendOne(command)
    throw new Error('not a saga log command')
  }

  private appendOne(a: SagaLogAppend): AppendOutcome {
    if (typeof a?.id !== 'string' || !Number.isSafeInteger(a.seq) || !Array.isArray(a.records)) throw new Error('not a saga log append')
    return this.store.append(a.id, a.seq, a.records)
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

export interface RaftBatching {
  /** Most appends carried by one Raft entry (default 256). */
  maxAppends?: number
  /** Batches proposed and not yet answered at once (default 4); more appends wait and join the next batch. */
  maxInflight?: number
}

export interface RaftSagaLogOptions extends SagaStoreOptions, Omit<GroupOptions, 'stateMachine'> {
  /** Whether this node keeps a replica (default: it is in `members` or `learners`). Others forward. */
  replica?: boolean
  batching?: RaftBatching
}

type Group = RaftGroup<SagaLogCommand, AppendOutcome | AppendOutcome[], SagaLogQuery, SagaRecord[] | string[] | null>

interface Queued {
  req: AppendRequest
  resolve(outcome: AppendOutcome): void
  reject(err: unknown): void
}

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
  private queue: Queued[] = []
  private inflight = 0
  private flushQueued = false
  private readonly maxAppends: number
  private readonly maxInflight: number

  private constructor(
    private readonly group: Group,
    private readonly owned: boolean,
    batching: RaftBatching = {},
  ) {
    this.maxAppends = batching.maxAppends ?? 256
    this.maxInflight = batching.maxInflight ?? 4
    if (!(Number.isSafeInteger(this.maxAppends) && this.maxAppends >= 1 && Number.isSafeInteger(this.maxInflight) && this.maxInflight >= 1)) {
      throw new SagaError('INVALID_ARGUMENT', 'batching.maxAppends and batching.maxInflight must be integers >= 1')
    }
  }

  /** Opens (or joins) the saga group on this node. Every member must use the same `id`, `members` and `retainFinished`. */
  static async open(system: ActorSystem, options: RaftSagaLogOptions): Promise<RaftSagaLog> {
    const { retainFinished, replica, batching, ...groupOptions } = options
    const isReplica = replica ?? (options.members.includes(system.name) || (options.learners ?? []).includes(system.name))
    const handle = await group(system, {
      ...groupOptions,
      ...(isReplica ? { stateMachine: () => new SagaStateMachine({ retainFinished }) } : {}),
    })
    return new RaftSagaLog(handle as unknown as Group, true, batching)
  }

  /** A log over a group opened elsewhere with `new SagaStateMachine(...)` as its state machine. */
  static over(handle: Group, batching?: RaftBatching): RaftSagaLog {
    return new RaftSagaLog(handle, false, batching)
  }

  /**
   * Group commit across sagas: appends made while earlier batches are in
   * flight wait and go together, as one Raft entry, in the next batch (each
   * still compare-and-append on its own history).
   */
  append(req: AppendRequest): Promise<void> {
    return new Promise<AppendOutcome>((resolve, reject) => {
      this.queue.push({ req, resolve, reject })
      this.scheduleFlush()
    }).then((outcome) => {
      if (!outcome.ok) throw new SagaError('LOG_CONFLICT', `history of ${req.id} has ${outcome.length} records, not ${req.seq}`)
    })
  }

  private scheduleFlush(): void {
    if (this.flushQueued || this.inflight >= this.maxInflight || this.queue.length === 0) return
    this.flushQueued = true
    // Appends made in the same turn join this batch.
    queueMicrotask(() => {
      this.flushQueued = false
      this.flush()
    })
  }

  private flush(): void {
    while (this.inflight < this.maxInflight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxAppends)
      this.inflight++
      const command: SagaLogCommand =
        batch.length === 1
          ? { op: 'append', id: batch[0].req.id, seq: batch[0].req.seq, records: batch[0].req.records }
          : { op: 'batch', appends: batch.map((q) => ({ id: q.req.id, seq: q.req.seq, records: q.req.records })) }
      this.group.propose(command).then(
        (result) => {
          const outcomes = Array.isArray(result) ? result : [result]
          batch.forEach((q, i) => q.resolve(outcomes[i] ?? { ok: false, length: -1 }))
        },
        (err) => {
          const error = mapError(err, batch.length === 1 ? `append to ${batch[0].req.id}` : `batch of ${batch.length} appends`)
          for (const q of batch) q.reject(error)
        },
      ).finally(() => {
        this.inflight--
        this.scheduleFlush()
      })
    }
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

/**
 * LOG_UNAVAILABLE for the failures after which the command may still apply
 * (or certainly did not), so the same append is tried again: the group's
 * retryable ones (NOT_LEADER, TIMEOUT, OVERLOADED, SESSION_EXPIRED) and the
 * runtime's on the ask to the local Raft host. A full host mailbox
 * (MAILBOX_FULL, not retryable in general) is one too: the request never
 * reached the host.
 */
function mapError(err: unknown, what: string): SagaError {
  const code = errorCode(err)
  const message = `${what}: ${(err as Error)?.message ?? String(err)}`
  if (isRetryable(err) || code === 'MAILBOX_FULL') return new SagaError('LOG_UNAVAILABLE', message, { cause: err })
  if (code === 'INVALID_ARGUMENT') return new SagaError('INVALID_ARGUMENT', message, { cause: err })
  return new SagaError('LOG_FAILED', message, { cause: err })
}
