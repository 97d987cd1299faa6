import { invariant } from '@troupe/runtime'
import type { Entry, HardState, LogStorage, PersistedState, Snapshot } from '../storage.js'
import { GroupLog } from './group-log.js'
import { StorageError } from './storage-error.js'

type Write =
  | { kind: 'entries'; entries: Entry[] }
  | { kind: 'hardState'; state: HardState }
  | { kind: 'snapshot'; snapshot: Snapshot }

/**
 * A LogStorage held in memory, for tests and for simulations without a disk.
 * It keeps the durability contract: writes are buffered until `sync`, and
 * `reopen()` (what a restarted node sees) keeps only what was synced.
 */
export class MemoryLogStorage implements LogStorage {
  /** Completed sync calls. */
  syncs = 0
  private readonly durable: GroupLog<Snapshot>
  /** The durable state plus the buffered writes: what appends are checked against. */
  private readonly view: GroupLog<Snapshot>
  private buffered: Write[] = []
  private closed = false

  constructor() {
    this.durable = new GroupLog<Snapshot>()
    this.view = new GroupLog<Snapshot>()
  }

  /** A new store over what this one made durable; this one is closed and its unsynced writes are lost. */
  reopen(): MemoryLogStorage {
    this.closed = true
    this.buffered = []
    const next = new MemoryLogStorage()
    copyInto(next.durable, this.durable)
    copyInto(next.view, this.durable)
    return next
  }

  async load(): Promise<PersistedState> {
    this.checkOpen()
    const { hardState, snapshot, entries } = this.durable
    return { hardState: { ...hardState }, snapshot, entries: entries.slice() }
  }

  append(entries: Entry[]): void {
    this.checkOpen()
    const problem = this.view.appendProblem(entries)
    invariant(problem === null, `MemoryLogStorage.append: ${problem}`)
    const copy = entries.map((e) => ({ ...e }))
    this.view.append(copy)
    this.buffered.push({ kind: 'entries', entries: copy })
  }

  setHardState(state: HardState): void {
    this.checkOpen()
    const copy = { ...state }
    this.view.hardState = copy
    this.buffered.push({ kind: 'hardState', state: copy })
  }

  saveSnapshot(snapshot: Snapshot): void {
    this.checkOpen()
    const problem = this.view.snapshotProblem(snapshot.meta)
    invariant(problem === null, `MemoryLogStorage.saveSnapshot: ${problem}`)
    const copy: Snapshot = { meta: structuredClone(snapshot.meta), data: snapshot.data.slice() }
    this.view.applySnapshot(copy)
    this.buffered.push({ kind: 'snapshot', snapshot: copy })
  }

  async sync(): Promise<void> {
    this.checkOpen()
    for (const write of this.buffered) applyWrite(this.durable, write)
    this.buffered = []
    this.syncs++
  }

  async close(): Promise<void> {
    if (this.closed) return
    await this.sync()
    this.closed = true
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('STORAGE_CLOSED', 'MemoryLogStorage is closed')
  }
}

function applyWrite(log: GroupLog<Snapshot>, write: Write): void {
  if (write.kind === 'entries') log.append(write.entries)
  else if (write.kind === 'hardState') log.hardState = write.state
  else log.applySnapshot(write.snapshot)
}

function copyInto(to: GroupLog<Snapshot>, from: GroupLog<Snapshot>): void {
  to.hardState = from.hardState
  to.snapshot = from.snapshot
  to.entries = from.entries.slice()
}
