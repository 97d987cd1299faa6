import type { LogStorage, WalOptions } from '@troupe/raft'
import { WriteAheadLog } from '@troupe/raft'
import type { Disk } from '@troupe/runtime'
import { SagaError } from '../errors.js'
import type { SagaRecord } from '../records.js'
import { decodeValue, encodeValue, roundTrip } from './record-codec.js'
import type { AppendRequest, SagaLog } from './saga-log.js'
import { SagaStore } from './saga-store.js'
import type { SagaStoreOptions } from './saga-store.js'

export interface FileSagaLogOptions extends SagaStoreOptions {
  /** Directory of the log on the disk. */
  dir: string
  /**
   * The log writes a snapshot of every retained history (so older records can
   * go) after at least this many appends, and once the records appended since
   * the last one outnumber the records held: a snapshot costs in proportion to
   * what is retained, so this keeps its cost per append constant. Default 10,000.
   */
  snapshotEveryAppends?: number
  /** Settings of the underlying write-ahead log (segment size, batch limits, a log line sink). */
  wal?: Omit<WalOptions, 'dir'>
}

const groupId = 'sagas'
const noVoters = { voters: [], learners: [] }

/**
 * A SagaLog for one node, on a `Disk` (NodeDisk in production, SimDisk in
 * the simulator). It reuses @troupe/raft's write-ahead log as a generic
 * durable log: each append is one checksummed entry, appends made in the
 * same turn share one write + fdatasync (group commit), a torn last record is
 * dropped at recovery, and periodic snapshots of the histories let the log
 * reclaim space. An append resolves only after its fdatasync.
 *
 * After a failed write or fdatasync every later call rejects with
 * LOG_FAILED: restart the process and open the log again.
 */
export class FileSagaLog implements SagaLog {
  private failure: SagaError | null = null
  private closed = false
  private appendsSinceSnapshot = 0
  private recordsSinceSnapshot = 0

  private constructor(
    private readonly wal: WriteAheadLog,
    private readonly storage: LogStorage,
    private readonly store: SagaStore,
    private lastIndex: number,
    private readonly snapshotEveryAppends: number,
  ) {}

  /** Recovers the log in `options.dir` (creating it if needed). */
  static async open(disk: Disk, options: FileSagaLogOptions): Promise<FileSagaLog> {
    const snapshotEvery = options.snapshotEveryAppends ?? 10_000
    if (!(Number.isSafeInteger(snapshotEvery) && snapshotEvery >= 1)) throw new SagaError('INVALID_ARGUMENT', 'snapshotEveryAppends must be an integer >= 1')
    let wal: WriteAheadLog
    try {
      wal = await WriteAheadLog.open(disk, { ...options.wal, dir: options.dir })
    } catch (err) {
      throw new SagaError('LOG_FAILED', `cannot open the saga log in '${options.dir}': ${(err as Error).message}`, { cause: err })
    }
    const storage = wal.group(groupId)
    const state = await storage.load()
    const store = new SagaStore(options)
    if (state.snapshot) store.restore(decodeValue(state.snapshot.data))
    let lastIndex = state.snapshot?.meta.index ?? 0
    for (const entry of state.entries) {
      const [id, seq, records] = decodeValue(entry.data) as [string, number, SagaRecord[]]
      const outcome = store.append(id, seq, records)
      if (!outcome.ok) throw new SagaError('LOG_FAILED', `saga log entry ${entry.index} does not replay (history ${id} has ${outcome.length} records, not ${seq})`)
      lastIndex = entry.index
    }
    return new FileSagaLog(wal, storage, store, lastIndex, snapshotEvery)
  }

  async append(req: AppendRequest): Promise<void> {
    this.checkUsable()
    let data: Uint8Array
    try {
      data = encodeValue([req.id, req.seq, req.records])
    } catch (err) {
      throw new SagaError('INVALID_ARGUMENT', `a record of ${req.id} cannot be encoded: ${(err as Error).message}`, { cause: err })
    }
    // The store keeps the decoded copy: exactly what a replay after a restart will see.
    const outcome = this.store.append(req.id, req.seq, (decodeValue(data) as [string, number, SagaRecord[]])[2])
    if (!outcome.ok) throw new SagaError('LOG_CONFLICT', `history of ${req.id} has ${outcome.length} records, not ${req.seq}`)
    const index = ++this.lastIndex
    try {
      this.storage.append([{ term: 1, index, kind: 'normal', data }])
      this.recordsSinceSnapshot += req.records.length
      if (++this.appendsSinceSnapshot >= this.snapshotEveryAppends && this.recordsSinceSnapshot >= this.store.records) {
        this.appendsSinceSnapshot = 0
        this.recordsSinceSnapshot = 0
        this.storage.saveSnapshot({ meta: { index, term: 1, config: noVoters }, data: encodeValue(this.store.snapshot()) })
      }
      await this.storage.sync()
    } catch (err) {
      // The history in memory is ahead of the disk now; nothing here may be trusted until a restart.
      throw this.fail(err)
    }
  }

  async read(id: string): Promise<SagaRecord[] | null> {
    this.checkUsable()
    await this.durable()
    const history = this.store.read(id)
    return history ? roundTrip([...history]) : null
  }

  async unfinished(): Promise<string[]> {
    this.checkUsable()
    await this.durable()
    return this.store.unfinished()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      await this.storage.close()
    } finally {
      await this.wal.close()
    }
  }

  /** Waits until everything appended so far is on disk, so reads never show a record a crash could take back. */
  private async durable(): Promise<void> {
    try {
      await this.storage.sync()
    } catch (err) {
      throw this.fail(err)
    }
  }

  private fail(err: unknown): SagaError {
    this.failure ??= new SagaError('LOG_FAILED', `the saga log failed: ${(err as Error)?.message ?? String(err)}`, { cause: err })
    return this.failure
  }

  private checkUsable(): void {
    if (this.failure) throw this.failure
    if (this.closed) throw new SagaError('LOG_FAILED', 'the saga log is closed')
  }
}
