import { InvariantError } from '@troupe/runtime/errors'
import type {
  AcquireCommand, EntryStatus, ExpireCommand, ExpireResult, GoneReason, KeepAliveCommand, LeaseCommand, LeaseQuery,
  LeaseQueryResult, LeaseResult, NameInfo, ReleaseCommand, ReleaseResult, RenewCommand, RenewResult, RequestRef, WatchAnswer,
  WatchRequest,
} from './commands.js'
import { ClientRecords } from './client-records.js'
import type { ClientRecord } from './client-records.js'
import { NameState, entryKey } from './name-state.js'
import type { Entry } from './name-state.js'
import { commandProblem, renewItemProblem } from './command-validation.js'
import type { InputLimits } from './command-validation.js'

/** What the table learns about the command it applies (a subset of the Raft group's apply meta). */
export interface LeaseApplyMeta {
  /** Log index: strictly increasing, the same on every replica. */
  index: number
  term: number
  /** Log time (ms, a leader's clock): used only to forget idle clients, never for expiry. */
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
  /** A waiter reached the head and now holds `name` (granted by another request's command, of log term `term`). */
  granted(name: string, entry: Readonly<Entry>, term: number): void
  /** The holders of `name` changed at log index `revision`. */
  changed(name: string, revision: number): void
  /** A read asked this replica to push the changes of `name` (see `WatchRequest`); absent: refused as unavailable. */
  watch?(name: string, request: WatchRequest): WatchAnswer
  /** The whole state was replaced from a snapshot: any name may have changed. */
  restored?(): void
}

/** An entry as the expiry judge sees it. */
export interface EntryView extends RequestRef {
  name: string
  ttlMs: number
  renewedIndex: number
}

export const DEFAULT_TABLE_OPTIONS: Required<LeaseTableOptions> = {
  maxNameLength: 1024,
  maxValueLength: 4096,
  minTtlMs: 1,
  maxTtlMs: 24 * 3600_000,
  maxExpireItems: 256,
  maxRenewItems: 1024,
  maxWaitersPerName: 10_000,
  maxNames: 1_000_000,
  maxClients: 100_000,
  maxOutcomesPerClient: 1024,
  clientIdleMs: 600_000,
}

const SNAPSHOT_VERSION = 2

/**
 * The lease table: a deterministic state machine replicated by a Raft group.
 * It never reads a clock and keeps no time: an entry records the log index
 * of its last grant or renewal, and expires only by an `expire` command
 * that the leader of a term proposes from its own clock's judgment. That
 * command applies only if it lands in the log in the same term and the
 * entry was not renewed since the judgment, so a new leader (which has to
 * judge afresh, from when it took over) never inherits an old one.
 */
export class LeaseTable {
  private readonly options: Required<LeaseTableOptions>
  private readonly names = new Map<string, NameState>()
  private readonly clients: ClientRecords
  private listener: LeaseTableListener | null = null
  /** The highest revision of a name forgotten when it went idle: reported for names not in the table, so a name's revision never goes back. */
  private idleRevision = 0

  constructor(options: LeaseTableOptions = {}) {
    this.options = { ...DEFAULT_TABLE_OPTIONS, ...options }
    this.clients = new ClientRecords(this.options)
  }

  setListener(listener: LeaseTableListener | null): void {
    this.listener = listener
  }

  apply(command: LeaseCommand, meta: LeaseApplyMeta): LeaseResult {
    const problem = commandProblem(command, this.options)
    if (problem !== null) return { status: 'invalid', reason: problem }
    let result: LeaseResult
    switch (command.op) {
      case 'acquire': result = this.acquire(command, meta); break
      case 'keepAlive': result = this.keepAlive(command, meta); break
      case 'renew': result = this.renew(command, meta); break
      case 'release': result = this.release(command, meta); break
      case 'expire': result = this.expire(command, meta); break
    }
    this.clients.collect(meta.timeMs)
    return result
  }

  /**
   * Answers a read. A `watch` request does not change the table: it asks the
   * listener (the lease service) to push later changes of the name, from
   * this replica, starting right after the state this read returns.
   */
  query(query: LeaseQuery): LeaseQueryResult {
    if (typeof query !== 'object' || query === null || query.op !== 'get' || typeof query.name !== 'string') {
      return { name: '', holders: [], waiters: 0, revision: 0, lastToken: 0 }
    }
    const info = this.info(query.name)
    if (query.watch === undefined) return info
    const w = query.watch as Partial<WatchRequest> | null
    const valid = typeof w === 'object' && w !== null && typeof w.inbox === 'string' && w.inbox.length <= 1024 && Number.isSafeInteger(w.subId)
    const watch: WatchAnswer = !valid ? { status: 'invalid' } : (this.listener?.watch?.(query.name, { inbox: w.inbox!, subId: w.subId! }) ?? { status: 'unavailable' })
    return { ...info, watch }
  }

  info(name: string): NameInfo {
    const ns = this.names.get(name)
    if (!ns) return { name, holders: [], waiters: 0, revision: this.idleRevision, lastToken: 0 }
    const holders = [...ns.holders.values()].map((e) => ({ clientId: e.clientId, requestId: e.requestId, mode: e.mode, token: e.token, value: e.value }))
    return { name, holders, waiters: ns.waiters.size, revision: ns.revision, lastToken: ns.lastToken }
  }

  /** Every entry, holders and waiters (for the expiry judge; do not keep the views). */
  *entries(): IterableIterator<EntryView> {
    for (const [name, ns] of this.names) {
      for (const e of ns.holders.values()) yield { name, clientId: e.clientId, requestId: e.requestId, ttlMs: e.ttlMs, renewedIndex: e.renewedIndex }
      for (const e of ns.waiters.values()) yield { name, clientId: e.clientId, requestId: e.requestId, ttlMs: e.ttlMs, renewedIndex: e.renewedIndex }
    }
  }

  private acquire(cmd: AcquireCommand, meta: LeaseApplyMeta): EntryStatus {
    const key = entryKey(cmd.clientId, cmd.requestId)
    const ns = this.names.get(cmd.name)
    const existing = ns && (ns.holders.get(key) ?? ns.waiters.get(key))
    const client = this.clients.touch(cmd.clientId, meta.timeMs)
    if (client === null) return { status: 'rejected', reason: `more than ${this.options.maxClients} clients` }
    if (ns && existing) return this.renewEntry(ns, key, existing, meta)
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
      token: 0, renewedIndex: meta.index,
    }
    if (state.grantableNow(cmd.mode)) {
      state.grant(entry, meta.index)
      client.live++
      this.listener?.changed(cmd.name, state.revision)
      return { status: 'granted', token: entry.token }
    }
    if (!cmd.wait || state.waiters.size >= this.options.maxWaitersPerName) {
      if (state.idle) this.forgetName(cmd.name, state)
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
    return this.keepAliveOne(cmd.clientId, cmd.name, cmd.requestId, meta)
  }

  /** Each item is renewed (or answered gone/unknown/invalid) on its own: one bad item leaves the others alone. */
  private renew(cmd: RenewCommand, meta: LeaseApplyMeta): RenewResult {
    if (cmd.items.length > this.options.maxRenewItems) return { status: 'rejected', reason: `more than ${this.options.maxRenewItems} items` }
    const items = cmd.items.map((item): EntryStatus => {
      const problem = renewItemProblem(item, this.options)
      return problem !== null ? { status: 'invalid', reason: problem } : this.keepAliveOne(cmd.clientId, item.name, item.requestId, meta)
    })
    return { status: 'done', items }
  }

  private keepAliveOne(clientId: string, name: string, requestId: number, meta: LeaseApplyMeta): EntryStatus {
    const key = entryKey(clientId, requestId)
    const ns = this.names.get(name)
    const entry = ns && (ns.holders.get(key) ?? ns.waiters.get(key))
    if (ns && entry) {
      this.clients.touch(clientId, meta.timeMs)
      return this.renewEntry(ns, key, entry, meta)
    }
    const outcome = this.clients.get(clientId)?.outcomes.get(requestId)
    return outcome !== undefined ? { status: 'gone', reason: outcome } : { status: 'unknown' }
  }

  private renewEntry(ns: NameState, key: string, entry: Entry, meta: LeaseApplyMeta): EntryStatus {
    entry.renewedIndex = meta.index
    return entry.token > 0 ? { status: 'granted', token: entry.token } : { status: 'queued', position: ns.position(key) }
  }

  private release(cmd: ReleaseCommand, meta: LeaseApplyMeta): ReleaseResult {
    const found = this.remove(cmd, 'released', meta)
    if (found === null) return { status: 'unknown' }
    return { status: found.token > 0 ? 'released' : 'cancelled' }
  }

  private expire(cmd: ExpireCommand, meta: LeaseApplyMeta): ExpireResult {
    let expired = 0
    let stale = 0
    let unknown = 0
    for (const item of cmd.items) {
      const ns = this.names.get(item.name)
      const key = entryKey(item.clientId, item.requestId)
      const entry = ns?.holders.get(key) ?? ns?.waiters.get(key)
      if (!entry) unknown++
      // Another term's judgment, or renewed since: the judge's clock said nothing about the renewal.
      else if (cmd.term !== meta.term || entry.renewedIndex !== item.renewedIndex) stale++
      else {
        this.remove(item, 'expired', meta)
        expired++
      }
    }
    return { status: 'done', expired, stale, unknown }
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
    const granted = ns.promote(meta.index)
    if (wasHolder || granted.length > 0) this.listener?.changed(ref.name, ns.revision)
    for (const g of granted) this.listener?.granted(ref.name, g, meta.term)
    if (ns.idle) this.forgetName(ref.name, ns)
    return entry
  }

  private forgetName(name: string, ns: NameState): void {
    this.names.delete(name)
    if (ns.revision > this.idleRevision) this.idleRevision = ns.revision
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
    return { v: SNAPSHOT_VERSION, names, clients, idleRevision: this.idleRevision }
  }

  restore(snapshot: unknown): void {
    const s = snapshot as { v: number; names: any[]; clients: any[]; idleRevision?: number }
    // Version 1 (before idleRevision) restores with idleRevision 0.
    if (s?.v !== SNAPSHOT_VERSION && s?.v !== 1) throw new InvariantError(`lease table: unknown snapshot version ${String(s?.v)}`)
    this.names.clear()
    this.clients.byId.clear()
    this.idleRevision = s.idleRevision ?? 0
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
    this.listener?.restored?.()
  }
}
