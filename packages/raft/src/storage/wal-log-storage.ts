import type { Entry, HardState, LogStorage, PersistedState, Snapshot } from '../storage.js'
import { StorageError } from './storage-error.js'

/** What one group's store needs from the shared log. */
export interface WalGroupPort {
  load(): Promise<PersistedState>
  append(entries: Entry[]): void
  setHardState(state: HardState): void
  saveSnapshot(snapshot: Snapshot): void
  sync(): Promise<void>
  /** The store is closed: the log forgets it (its durable state stays in the log). */
  release(): void
}

/**
 * One group's LogStorage on a node's shared WriteAheadLog (`wal.group(id)`).
 * `sync` joins the log's next group commit, which makes every group's
 * buffered writes durable with one fdatasync.
 */
export class WalLogStorage implements LogStorage {
  private closed = false

  constructor(
    readonly groupId: string,
    private readonly port: WalGroupPort,
  ) {}

  load(): Promise<PersistedState> {
    return this.isOpen() ? this.port.load() : Promise.reject(this.closedError())
  }

  append(entries: Entry[]): void {
    if (!this.isOpen()) throw this.closedError()
    this.port.append(entries)
  }

  setHardState(state: HardState): void {
    if (!this.isOpen()) throw this.closedError()
    this.port.setHardState(state)
  }

  saveSnapshot(snapshot: Snapshot): void {
    if (!this.isOpen()) throw this.closedError()
    this.port.saveSnapshot(snapshot)
  }

  sync(): Promise<void> {
    return this.isOpen() ? this.port.sync() : Promise.reject(this.closedError())
  }

  /** Makes this group's buffered writes durable, then detaches the store. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      await this.port.sync()
    } finally {
      this.port.release()
    }
  }

  private isOpen(): boolean {
    return !this.closed
  }

  private closedError(): StorageError {
    return new StorageError('STORAGE_CLOSED', `log storage of group ${this.groupId} is closed`)
  }
}
