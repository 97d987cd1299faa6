import type { GroupReplica } from './group-replica.js'
import type { Outbox } from './outbox.js'
import type { Quiescence } from './quiescence.js'
import type { SyncBatcher } from './sync-batcher.js'

/** What the drain loop needs from its host. */
export interface DrainHost {
  /** Queues a `drain` message to the host itself, behind the messages already queued. */
  scheduleDrain(): void
  /** The replica threw: stop it (an InvariantError is rethrown). */
  fail(g: GroupReplica, err: unknown): void
}

/**
 * The host's driver loop (the README's Ready loop for many groups). Work
 * marks replicas dirty; one drain, after everything queued meanwhile,
 * handles their Readies (at most `maxReadiesPerTurn`, the rest in the next
 * turn), sends one batch per node and starts one sync for all of them.
 * When the sync is done the replicas finish their Readies and are dirty
 * again.
 */
export class DrainLoop {
  /** Replicas that may have a Ready. */
  private readonly dirty = new Set<GroupReplica>()
  private scheduled = false

  constructor(
    private readonly host: DrainHost,
    private readonly quiescence: Quiescence,
    private readonly sync: SyncBatcher,
    private readonly outbox: Outbox,
    private readonly maxReadiesPerTurn: number,
  ) {}

  mark(g: GroupReplica): void {
    this.dirty.add(g)
  }

  forget(g: GroupReplica): void {
    this.dirty.delete(g)
  }

  /**
   * Asks for a drain after the messages already queued: everything the
   * host receives meanwhile (messages of many groups, proposals, sync
   * completions) is handled first, so one drain sends one batch per node
   * and starts one sync for all of it.
   */
  schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    this.host.scheduleDrain()
  }

  /** Handles Readies of dirty replicas (bounded per turn), starts one sync for them, sends every batch. */
  run(): void {
    this.scheduled = false
    let budget = this.maxReadiesPerTurn
    for (const g of this.dirty) {
      if (budget === 0) break
      this.dirty.delete(g)
      if (g.stopped || g.inflight !== null || !g.hasReady()) continue
      budget--
      try {
        const rd = g.startReady()
        this.quiescence.readied(g, rd)
        if (rd.mustSync) this.sync.add(g)
        else {
          g.finishReady()
          this.dirty.add(g)
        }
      } catch (err) {
        this.host.fail(g, err)
      }
    }
    if (budget === 0 && this.dirty.size > 0) this.schedule()
    // Messages first: a disk that syncs on this thread must not hold back the appends followers sync in parallel.
    this.outbox.flushAll()
    this.sync.start()
  }

  /** Sync `batch` finished: its replicas finish their Readies (or fail with the storage). */
  synced(batch: number, error: string | null): void {
    const replicas = this.sync.take(batch)
    if (replicas === undefined) return
    for (const g of replicas) {
      if (g.stopped) continue
      if (error !== null) {
        this.host.fail(g, new Error(`storage sync failed: ${error}`))
        continue
      }
      try {
        g.finishReady()
      } catch (err) {
        this.host.fail(g, err)
        continue
      }
      this.dirty.add(g)
    }
    this.schedule()
  }
}
