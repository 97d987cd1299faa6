import { SagaError } from '../errors.js'
import type { SagaRecord } from '../records.js'
import { roundTrip } from './record-codec.js'
import type { AppendRequest, SagaLog } from './saga-log.js'
import { SagaStore } from './saga-store.js'
import type { SagaStoreOptions } from './saga-store.js'

/**
 * A SagaLog in memory, for tests: every append is "durable" at once and the
 * object outlives the coordinators that use it, like a disk outlives a
 * process. Records go through CBOR on the way in and out, so a test sees
 * exactly what a durable log would give back.
 */
export class MemorySagaLog implements SagaLog {
  /** Completed appends. */
  appends = 0
  private readonly store: SagaStore
  private closed = false

  constructor(options: SagaStoreOptions & { /** Share the histories of another log (see `reopen`). */ store?: SagaStore } = {}) {
    this.store = options.store ?? new SagaStore(options)
  }

  async append(req: AppendRequest): Promise<void> {
    this.checkOpen()
    const outcome = this.store.append(req.id, req.seq, roundTrip(req.records))
    if (!outcome.ok) throw new SagaError('LOG_CONFLICT', `history of ${req.id} has ${outcome.length} records, not ${req.seq}`)
    this.appends++
  }

  async read(id: string): Promise<SagaRecord[] | null> {
    this.checkOpen()
    const history = this.store.read(id)
    return history ? roundTrip([...history]) : null
  }

  async unfinished(): Promise<string[]> {
    this.checkOpen()
    return this.store.unfinished()
  }

  /** A log over the same histories that is open again (what a restarted process would see). */
  reopen(): MemorySagaLog {
    return new MemorySagaLog({ store: this.store })
  }

  async close(): Promise<void> {
    this.closed = true
  }

  private checkOpen(): void {
    if (this.closed) throw new SagaError('LOG_FAILED', 'the saga log is closed')
  }
}
