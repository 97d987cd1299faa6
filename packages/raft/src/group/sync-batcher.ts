import type { LogStorage } from '../storage.js'
import type { GroupReplica } from './group-replica.js'

/**
 * One storage sync for the writes of many replicas. Replicas whose Ready
 * must be durable gather during a drain; `start` syncs each distinct
 * storage once (a node's shared write-ahead log: one fdatasync) and reports
 * the batch back by number, so the replicas finish their Readies together.
 */
export class SyncBatcher {
  private waiting: GroupReplica[] = []
  private readonly syncing = new Map<number, GroupReplica[]>()
  private seq = 0
  /** Syncs started since the host started. */
  syncs = 0

  /** `done` runs in a later turn (the host tells itself `synced`). */
  constructor(private readonly done: (batch: number, error: string | null) => void) {}

  add(g: GroupReplica): void {
    this.waiting.push(g)
  }

  /** Syncs the storages of the replicas added since the last start, if any. */
  start(): void {
    if (this.waiting.length === 0) return
    const batch = this.waiting
    this.waiting = []
    const id = ++this.seq
    this.syncing.set(id, batch)
    this.syncs++
    const stores = new Set<LogStorage>()
    const syncs: Promise<void>[] = []
    for (const g of batch) {
      if (stores.has(g.storage)) continue
      stores.add(g.storage)
      syncs.push(g.storage.sync())
    }
    const done = this.done
    Promise.all(syncs).then(
      () => done(id, null),
      (err) => done(id, String(err)),
    )
  }

  /** The replicas of a finished batch (once; undefined for an unknown number). */
  take(batch: number): GroupReplica[] | undefined {
    const replicas = this.syncing.get(batch)
    if (replicas !== undefined) this.syncing.delete(batch)
    return replicas
  }
}
