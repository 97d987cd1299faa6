import type { GoneReason } from './commands.js'

/** What the table remembers of one client, to answer its retries the same way. */
export interface ClientRecord {
  /** Every acquire below this id has settled on the client: a copy of one is stale. */
  settledBelow: number
  /** How finished acquires ended, by request id (bounded; pruned below `settledBelow`). */
  outcomes: Map<number, GoneReason>
  /** Entries (held or waiting) this client has in the table. */
  live: number
  /** Leader clock (ms) of its last command. */
  lastSeenMs: number
}

export interface ClientLimits {
  maxClients: number
  maxOutcomesPerClient: number
  /** A client with no entries is forgotten this long (log time) after its last command. */
  clientIdleMs: number
}

/**
 * Client records in least-recently-seen order (Map insertion order, moved
 * to the back on each command), so idle ones are found at the front.
 * Everything here runs inside `apply`, so it is deterministic.
 */
export class ClientRecords {
  readonly byId = new Map<string, ClientRecord>()

  constructor(private readonly limits: ClientLimits) {}

  get(clientId: string): ClientRecord | undefined {
    return this.byId.get(clientId)
  }

  /** The record of `clientId`, created if needed and moved to the back; null when the table is full. */
  touch(clientId: string, timeMs: number): ClientRecord | null {
    let record = this.byId.get(clientId)
    if (record) {
      this.byId.delete(clientId)
    } else {
      if (this.byId.size >= this.limits.maxClients) return null
      record = { settledBelow: 0, outcomes: new Map(), live: 0, lastSeenMs: timeMs }
    }
    record.lastSeenMs = Math.max(record.lastSeenMs, timeMs)
    this.byId.set(clientId, record)
    return record
  }

  /** Raises the client's watermark and forgets outcomes below it. */
  settle(record: ClientRecord, settledBelow: number): void {
    if (!(settledBelow > record.settledBelow)) return
    record.settledBelow = settledBelow
    for (const id of record.outcomes.keys()) if (id < settledBelow) record.outcomes.delete(id)
  }

  /** Remembers how a request ended (the oldest outcome goes when the record is full). */
  remember(record: ClientRecord, requestId: number, reason: GoneReason): void {
    record.outcomes.delete(requestId)
    record.outcomes.set(requestId, reason)
    while (record.outcomes.size > this.limits.maxOutcomesPerClient) {
      const oldest = record.outcomes.keys().next().value as number
      record.outcomes.delete(oldest)
    }
  }

  /** Forgets up to `budget` idle clients from the front; a busy one at the front moves to the back. */
  collect(timeMs: number, budget = 2): void {
    for (let i = 0; i < budget; i++) {
      const first = this.byId.entries().next()
      if (first.done) return
      const [id, record] = first.value
      if (record.live > 0) {
        this.byId.delete(id)
        this.byId.set(id, record)
      } else if (timeMs - record.lastSeenMs > this.limits.clientIdleMs) {
        this.byId.delete(id)
      } else {
        return
      }
    }
  }
}
