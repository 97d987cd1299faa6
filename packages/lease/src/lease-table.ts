import { InvariantError } from '@troupe/runtime'
import type {
  AcquireCommand, EntryStatus, ExpireCommand, ExpireResult, GoneReason, KeepAliveCommand, LeaseCommand, LeaseQuery,
  LeaseQueryResult, LeaseResult, NameInfo, ReleaseCommand, ReleaseResult, RequestRef, TickResult,
} from './commands.js'
import { ClientRecords } from './internal/client-records.js'
import type { ClientRecord } from './internal/client-records.js'
import { NameState, entryKey } from './internal/name-state.js'
import type { Entry } from './internal/name-state.js'
import { commandProblem } from './internal/validate.js'
import type { InputLimits } from './internal/validate.js'

/** What the table learns about the command it applies (a subset of the Raft group's apply meta). */
export interface LeaseApplyMeta {
  /** Log index: strictly increasing, the same on every replica. */
  index: number
  term: number
  /** Clock of the leader that appended the command (ms). */
  timeMs: number
}

/** Limits of the table. They must be equal on every replica of a group. */
export interface LeaseTableOptions extends Partial<InputLimits> {
  maxWaitersPerName?: number
  maxNames?: number
  maxClients?: number
  maxOutcomesPerClient?: number
  /** A client with no entries is forgotten this long (log time) after its last command (default 10 min). */
  clientIdleMs?: number
}

/** Told about grants and holder changes while commands apply (the service turns them into hints). */
export interface LeaseTableListener {
  /** A waiter reached the head and now holds `name` (granted by another request's command). */
  granted(name: string, entry: Readonly<Entry>): void
  /** The holders of `name` changed at log index `revision`. */
  changed(name: string, revision: number): void
}

/** An entry the leader may expire: its TTL has passed by the leader's clock. */
export interface DueEntry extends RequestRef {
  name: string
  dueAtMs: number
}

export const DEFAULT_TABLE_OPTIONS: Required<LeaseTableOptions> = {
  maxNameLength: 1024,
  maxValueLength: 4096,
  minTtlMs: 1,
  maxTtlMs: 24 * 3600_000,
  maxExpireItems: 256,
  maxWaitersPerName: 10_000,
  maxNames: 1_000_000,
  maxClients: 100_000,
  maxOutcomesPerClient: 1024,
  clientIdleMs: 600_000,
}

const SNAPSHOT_VERSION = 1

/**
 * The lease table: a deterministic state machine replicated by a Raft group.
 * It never reads a clock. Time enters only as `meta.timeMs`, the clock of
 * the leader that appended the command, so expiry is judged by exactly one
 * clock per term: an `expire` applies only if the entry is due by the clock
 * of the leader that wrote it, counting from the later of the entry's last
 * grant or renewal *in that leader's term* and the start of that term. A new
 * leader therefore gives every lease a fresh full TTL.
 */
export class LeaseTable {
  private readonly options: Required<LeaseTableOptions>
  private readonly names = new Map<string, NameState>()
  private readonly clients: ClientRecords
  private termValue = 0
  private termStart = 0
  private listener: LeaseTableListener | null = null

  constructor(options: LeaseTableOptions = {}) {
    this.options = { ...DEFAULT_TABLE_OPTIONS, ...options }
    this.clients = new ClientRecords(this.options)
  }

  /** Term of the last applied command. */
  get term(): number {
    return this.termValue
  }

  /** Clock of this term's leader when the first command of the term applied. */
  get termStartMs(): number {
    return this.termStart
  }

  setListener(listener: LeaseTableListener | null): void {
    this.listener = listener
  }

  apply(command: LeaseCommand, meta: LeaseApplyMeta): LeaseResult {
    this.observeTerm(meta)
    const problem = commandProblem(command, this.options)
    if (problem !== null) return { status: 'invalid', reason: problem }
    let result: LeaseResult
    switch (command.op) {
      case 'acquire': result = this.acquire(command, meta); break
      case 'keepAlive': result = this.keepAlive(command, meta); break
      case 'release': result = this.release(command, meta); break
      case 'expire': result = this.expire(command, meta); break
      case 'tick': result = { status: 'tick', term: this.termValue, termStartMs: this.termStart } satisfies TickResult; break
    }
    this.clients.collect(meta.timeMs)
    return result
  }

  query(query: LeaseQuery): LeaseQueryResult {
    if (typeof query !== 'object' || query === null || query.op !== 'get' || typeof query.name !== 'string') {
      return { name: '', holders: [], waiters: 0, revision: 0, lastToken: 0 }
    }
    return this.info(query.name)
  }

  info(name: string): NameInfo {
    const ns = this.names.get(name)
    if (!ns) return { name, holders: [], waiters: 0, revision: 0, lastToken: 0 }
    const holders = [...ns.holders.values()].map((e) => ({ clientId: e.clientId, requestId: e.requestId, mode: e.mode, token: e.token, value: e.value }))
    return { name, holders, waiters: ns.waiters.size, revision: ns.revision, lastToken: ns.lastToken }
  }

  /** When `entry` may be expired, in the clock of the current term's leader. */
  dueAtMs(entry: Readonly<Entry>): number {
    const from = entry.renewedTerm === this.termValue ? Math.max(entry.renewedAtMs, this.termStart) : this.termStart
    return from + entry.ttlMs
  }

  /** Entries due by `nowMs` of the current term's leader clock, oldest due first, at most `max`. */
  dueEntries(nowMs: number, max: number): DueEntry[] {
    const due: DueEntry[] = []
    for (const [name, ns] of this.names) {
      for (const map of [ns.holders, ns.waiters]) {
        for (const e of map.values()) {
          const dueAtMs = this.dueAtMs(e)
          if (dueAtMs <= nowMs) due.push({ name, clientId: e.clientId, requestId: e.requestId, dueAtMs })
        }
      }
    }
    due.sort((a, b) => a.dueAtMs - b.dueAtMs)
    return due.slice(0, max)
  }

  /** The earliest due time of any entry (Infinity when empty), in the current term's leader clock. */
  nextDueAtMs(): number {
    let next = Infinity
    for (const ns of this.names.values()) {
      for (const e of ns.holders.values()) next = Math.min(next, this.dueAtMs(e))
      for (const e of ns.waiters.values()) next = Math.min(next, this.dueAtMs(e))
    }
    return next
  }

  private observeTerm(meta: LeaseApplyMeta): void {
    if (meta.term > this.termValue) {
      this.termValue = meta.term
      this.termStart = meta.timeMs
    } else if (meta.term < this.termValue) {
      throw new InvariantError(`lease table: applied term ${meta.term} after term ${this.termValue}`)
    }
  }

  private acquire(cmd: AcquireCommand, meta: LeaseApplyMeta): EntryStatus {
    const key = entryKey(cmd.clientId, cmd.requestId)
    const ns = this.names.get(cmd.name)
    const existing = ns && (ns.holders.get(key) ?? ns.waiters.get(key))
    const client = this.clients.touch(cmd.clientId, meta.timeMs)
    if (client === null) return { status: 'rejected', reason: `more than ${this.options.maxClients} clients` }
    if (ns && existing) return this.renew(ns, key, existing, meta)
    const outcome = client.outcomes.get(cmd.requestId)
    if (outcome !== undefined) return { status: 'gone', reason: outcome }
    this.clients.settle(client, cmd.settledBelow)
    if (cmd.requestId < client.settledBelow) return { status: 'stale' }

    let state = ns
    if (!state) {
      if (this.names.size >= this.options.maxNames) return { status: 'rejected', reason: `more than ${this.options.maxNames} names` }
      state = new NameState()
      this.names.set(cmd.name, state)
    }
    const entry: Entry = {
      clientId: cmd.clientId, requestId: cmd.requestId, mode: cmd.mode, ttlMs: cmd.ttlMs, inbox: cmd.inbox, value: cmd.value,
      token: 0, renewedAtMs: meta.timeMs, renewedTerm: meta.term,
    }
    if (state.grantableNow(cmd.mode)) {
      state.grant(entry, meta.index, meta.timeMs, meta.term)
      client.live++
      this.listener?.changed(cmd.name, state.revision)
      return { status: 'granted', token: entry.token }
    }
    if (!cmd.wait || state.waiters.size >= this.options.maxWaitersPerName) {
      if (state.idle) this.names.delete(cmd.name)
      if (!cmd.wait) {
        this.clients.remember(client, cmd.requestId, 'busy')
        return { status: 'gone', reason: 'busy' }
      }
      return { status: 'rejected', reason: `more than ${this.options.maxWaitersPerName} waiters for this name` }
    }
    state.waiters.set(key, entry)
    client.live++
    return { status: 'queued', position: state.waiters.size - 1 }
  }

  private keepAlive(cmd: KeepAliveCommand, meta: LeaseApplyMeta): EntryStatus {
    const key = entryKey(cmd.clientId, cmd.requestId)
    const ns = this.names.get(cmd.name)
    const entry = ns && (ns.holders.get(key) ?? ns.waiters.get(key))
    if (ns && entry) {
      this.clients.touch(cmd.clientId, meta.timeMs)
      return this.renew(ns, key, entry, meta)
    }
    const outcome = this.clients.get(cmd.clientId)?.outcomes.get(cmd.requestId)
    return outcome !== undefined ? { status: 'gone', reason: outcome } : { status: 'unknown' }
  }

  private renew(ns: NameState, key: string, entry: Entry, meta: LeaseApplyMeta): EntryStatus {
    entry.renewedAtMs = meta.timeMs
    entry.renewedTerm = meta.term
    return entry.token > 0 ? { status: 'granted', token: entry.token } : { status: 'queued', position: ns.position(key) }
  }

  private release(cmd: ReleaseCommand, meta: LeaseApplyMeta): ReleaseResult {
    const found = this.remove(cmd, 'released', meta)
    if (found === null) return { status: 'unknown' }
    return { status: found.token > 0 ? 'released' : 'cancelled' }
  }

  private expire(cmd: ExpireCommand, meta: LeaseApplyMeta): ExpireResult {
    let expired = 0
    let notDue = 0
    let unknown = 0
    for (const item of cmd.items) {
      const ns = this.names.get(item.name)
      const entry = ns?.holders.get(entryKey(item.clientId, item.requestId)) ?? ns?.waiters.get(entryKey(item.clientId, item.requestId))
      if (!entry) unknown++
      else if (this.dueAtMs(entry) > meta.timeMs) notDue++
      else {
        this.remove(item, 'expired', meta)
        expired++
      }
    }
    return { status: 'done', expired, notDue, unknown }
  }

  /** Takes an entry out (holder or waiter), records why, and grants the next waiters. */
  private remove(ref: RequestRef & { name: string }, reason: GoneReason, meta: LeaseApplyMeta): Entry | null {
    const ns = this.names.get(ref.name)
    if (!ns) return null
    const key = entryKey(ref.clientId, ref.requestId)
    const entry = ns.holders.get(key) ?? ns.waiters.get(key)
    if (!entry) return null
    const wasHolder = ns.holders.delete(key)
    if (!wasHolder) ns.waiters.delete(key)
    const client = this.clients.get(ref.clientId)
    if (client) this.forget(client, ref.requestId, reason)
    if (wasHolder) ns.revision = meta.index
    const granted = ns.promote(meta.index, meta.timeMs, meta.term)
    if (wasHolder || granted.length > 0) this.listener?.changed(ref.name, ns.revision)
    for (const g of granted) this.listener?.granted(ref.name, g)
    if (ns.idle) this.names.delete(ref.name)
    return entry
  }

  private forget(client: ClientRecord, requestId: number, reason: GoneReason): void {
    client.live--
    if (client.live < 0) throw new InvariantError('lease table: client live count below zero')
    this.clients.remember(client, requestId, reason)
  }

  // ---- snapshots ----

  snapshot(): unknown {
    const names = [...this.names].map(([name, ns]) => [name, ns.lastToken, ns.revision, [...ns.holders.values()], [...ns.waiters.values()]])
    const clients = [...this.clients.byId].map(([id, c]) => [id, c.settledBelow, c.live, c.lastSeenMs, [...c.outcomes]])
    return { v: SNAPSHOT_VERSION, term: this.termValue, termStartMs: this.termStart, names, clients }
  }

  restore(snapshot: unknown): void {
    const s = snapshot as { v: number; term: number; termStartMs: number; names: any[]; clients: any[] }
    if (s?.v !== SNAPSHOT_VERSION) throw new InvariantError(`lease table: unknown snapshot version ${String(s?.v)}`)
    this.names.clear()
    this.clients.byId.clear()
    this.termValue = s.term
    this.termStart = s.termStartMs
    for (const [name, lastToken, revision, holders, waiters] of s.names) {
      const ns = new NameState()
      ns.lastToken = lastToken
      ns.revision = revision
      for (const e of holders as Entry[]) ns.holders.set(entryKey(e.clientId, e.requestId), { ...e })
      for (const e of waiters as Entry[]) ns.waiters.set(entryKey(e.clientId, e.requestId), { ...e })
      this.names.set(name, ns)
    }
    for (const [id, settledBelow, live, lastSeenMs, outcomes] of s.clients) {
      this.clients.byId.set(id, { settledBelow, live, lastSeenMs, outcomes: new Map(outcomes) })
    }
  }
}
