// The replicated vocabulary of the lease table: commands written to the Raft
// log, their results, and the read queries. All plain CBOR-encodable values.

export type LeaseMode = 'exclusive' | 'shared'

/** Names one acquire attempt: the holding or the waiter it created. */
export interface RequestRef {
  clientId: string
  /** Increasing per client; a retry of an acquire reuses its id. */
  requestId: number
}

export interface AcquireCommand extends RequestRef {
  op: 'acquire'
  name: string
  mode: LeaseMode
  ttlMs: number
  /** False for tryAcquire: answer `busy` instead of queueing. */
  wait: boolean
  /** Where the leader sends a `granted` hint when this waiter reaches the head (`node` + NUL + `path`), or null. */
  inbox: string | null
  /** Opaque holder data (an election candidate's value), or null. */
  value: string | null
  /** Every acquire of this client with a lower id has settled: its outcome may be forgotten, and a late copy of it is stale. */
  settledBelow: number
}

/** Renews a holding or a waiting entry (the one-entry form; clients send `renew`). */
export interface KeepAliveCommand extends RequestRef {
  op: 'keepAlive'
  name: string
}

/** One entry of a `renew` command. */
export interface RenewItem {
  name: string
  requestId: number
}

/**
 * Renews many entries of one client in one log entry (a client's
 * keep-alives that fall due together). Answered per item, in order; an item
 * that is gone or unknown does not affect the others.
 */
export interface RenewCommand {
  op: 'renew'
  clientId: string
  /** At most `maxRenewItems` (table option, default 1,024). */
  items: RenewItem[]
}

/** Gives up a holding, or cancels a waiting entry. */
export interface ReleaseCommand extends RequestRef {
  op: 'release'
  name: string
}

/** An entry the leader judged expired: its TTL passed, by the leader's clock, since it saw `renewedIndex`. */
export interface ExpireItem extends RequestRef {
  name: string
  renewedIndex: number
}

/**
 * Proposed by the leader of `term` only. It applies only if it lands in the
 * log in that same term (so it is that leader's judgment), and only to
 * entries not renewed since the leader judged them.
 */
export interface ExpireCommand {
  op: 'expire'
  term: number
  items: ExpireItem[]
}

export type LeaseCommand = AcquireCommand | KeepAliveCommand | RenewCommand | ReleaseCommand | ExpireCommand

/** Why an entry left the table. */
export type GoneReason = 'released' | 'expired' | 'busy'

export type EntryStatus =
  | { status: 'granted'; token: number }
  | { status: 'queued'; position: number }
  /** The request finished earlier (released, expired, or refused as busy). */
  | { status: 'gone'; reason: GoneReason }
  /** A late copy of a request the client has settled; nothing was done. */
  | { status: 'stale' }
  /** keepAlive/release of an entry the table does not know (never existed, or forgotten). */
  | { status: 'unknown' }
  /** The table is full (waiters per name, names, clients); nothing was done. */
  | { status: 'rejected'; reason: string }
  /** The command was malformed; nothing was done. */
  | { status: 'invalid'; reason: string }

export type AcquireResult = EntryStatus
export type KeepAliveResult = EntryStatus
/**
 * `done`: one status per item, in order (`invalid` for a malformed item).
 * `rejected`: more items than the table takes; nothing was renewed.
 */
export type RenewResult = { status: 'done'; items: EntryStatus[] } | { status: 'rejected'; reason: string } | { status: 'invalid'; reason: string }
export type ReleaseResult = { status: 'released' | 'cancelled' | 'unknown' } | { status: 'invalid'; reason: string }
/** `stale`: entries renewed since the judgment, or the command landed in another term. */
export type ExpireResult = { status: 'done'; expired: number; stale: number; unknown: number } | { status: 'invalid'; reason: string }

export type LeaseResult = EntryStatus | RenewResult | ReleaseResult | ExpireResult

/** A holder as reads report it. */
export interface HolderInfo {
  clientId: string
  requestId: number
  mode: LeaseMode
  token: number
  value: string | null
}

/** The state of one name: holders, queue length, and the log index of the last holder change. */
export interface NameInfo {
  name: string
  holders: HolderInfo[]
  waiters: number
  /**
   * Log index of the last change of holders. For a name nobody holds or
   * waits for (the table forgets idle names), an index at or after its last
   * change. Never goes back for a name as the log goes on.
   */
  revision: number
  /** The highest token ever granted for this name (0: none, or the name went idle and was forgotten). */
  lastToken: number
}

/** Asks the replica that serves a read to push the name's holder changes to `inbox` (see `WatchEvent`). */
export interface WatchRequest {
  /** The client's inbox address (`node` + NUL + `path`). */
  inbox: string
  /** Names the subscription within the inbox; a new one per (re)registration. */
  subId: number
}

/**
 * `accepted`: the member at `by` (its watch actor's address) pushes every
 * later change this replica applies. `full`: its watcher limits are reached.
 * `unavailable`: no lease service hosts this replica, or it is stopping.
 * `invalid`: a malformed request.
 */
export type WatchAnswer = { status: 'accepted'; by: string } | { status: 'full' | 'unavailable' | 'invalid' }

export type LeaseQuery = { op: 'get'; name: string; watch?: WatchRequest }
export type LeaseQueryResult = NameInfo & { watch?: WatchAnswer }
