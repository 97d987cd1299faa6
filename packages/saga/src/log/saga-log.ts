import type { SagaRecord } from '../records.js'

/** Compare-and-append: add `records` to the history of `id` only if it holds exactly `seq` records. */
export interface AppendRequest {
  id: string
  seq: number
  records: SagaRecord[]
}

/**
 * The durable log of saga and transaction histories: one append-only list of
 * records per id. Three implementations run one conformance suite:
 * `MemorySagaLog` (tests), `FileSagaLog` (one node, on a `Disk`) and
 * `RaftSagaLog` (a state machine on a Raft group, for clusters).
 *
 * Appends are compare-and-append on the history's length, which makes each
 * history single-writer: a coordinator that lost a race (another node took
 * the saga over) learns it from LOG_CONFLICT and stops, and a retried
 * append cannot apply twice.
 */
export interface SagaLog {
  /**
   * Appends when the history of `req.id` has exactly `req.seq` records (0 to
   * create it); resolves once the records are durable. Rejects with
   * LOG_CONFLICT (the history has another length) or LOG_FAILED.
   */
  append(req: AppendRequest): Promise<void>
  /** The durable history of `id`, or null if there is none (never written, or forgotten after retention). */
  read(id: string): Promise<SagaRecord[] | null>
  /** Ids whose history does not end with a terminal record (see `isFinished`), oldest first. */
  unfinished(): Promise<string[]>
  close(): Promise<void>
}
