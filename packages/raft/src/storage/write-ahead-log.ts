import type { Disk } from '@troupe/runtime'
import { invariant } from '@troupe/runtime'
import type { Entry, HardState, LogStorage, PersistedState, Snapshot } from '../storage.js'
import { GroupLog } from './group-log.js'
import { StorageError } from './storage-error.js'
import { decodeSnapshotFile, encodeRecord, encodeSnapshotFile, FormatProblem, frameHeaderBytes, walFormatVersion, type SnapshotRef } from './wal-codec.js'
import { joinPath, maxGroupIdLength, segmentName, snapshotDirName, snapshotFileName, tmpSuffix } from './wal-files.js'
import { WalLogStorage } from './wal-log-storage.js'
import { resolveWalOptions, type ResolvedWalOptions, type WalOptions } from './wal-options.js'
import { recoverWal, type LiveSegment } from './wal-recovery.js'

export interface WalStats {
  /** Group commits: each is one write and one fdatasync of the log (plus snapshot files it needs). */
  flushes: number
  records: number
  bytesWritten: number
  checkpoints: number
  /** Live segment files. */
  segments: number
}

interface PendingRecord {
  bytes: Uint8Array
  seq: number
  snapshot: SnapshotJob | null
}

interface SnapshotJob {
  group: string
  file: string
  bytes: Uint8Array
}

interface Batch {
  records: Uint8Array[]
  lastSeq: number
  /** Snapshot files the records name, in record order. */
  snapshots: SnapshotJob[]
  newSegment: boolean
  /** When set, the batch is written as this checkpoint segment (it already holds the batch's effects). */
  checkpoint: { seq: number; bytes: Uint8Array } | null
}

interface Waiter {
  seq: number
  promise: Promise<void>
  resolve: () => void
  reject: (err: unknown) => void
}

type GroupState = { hardState: HardState; snapshot: SnapshotRef | null; entries: Entry[] }

/** Entries records are split to about this size, so no single record grows without bound. */
const entriesChunkBytes = 1024 * 1024

/**
 * One write-ahead log per node, shared by all of the node's Raft groups
 * (`wal.group(id)` gives a group its LogStorage). Writes are buffered; a
 * `sync()` from any group joins the next group commit: one append of every
 * buffered record followed by one fdatasync, so the cost of a sync is shared
 * by all groups that wrote in the same event-loop turn or while the previous
 * sync was in flight. Snapshots go to their own files, written atomically
 * before the record that names them. Space is reclaimed by checkpoints (see
 * `wal-files.ts`); recovery is described in `wal-recovery.ts`.
 *
 * Entries handed to `append` are kept by reference and must not be mutated.
 */
export class WriteAheadLog {
  private readonly snapDir: string
  private readonly stores = new Map<string, WalLogStorage>()
  private segments: LiveSegment[]
  /** Segments a durable checkpoint superseded, to delete. */
  private obsolete: LiveSegment[] = []
  /** Per group, the snapshot file named by its latest durable snapshot record. */
  private readonly durableSnapshots = new Map<string, string>()
  /** Snapshot files found at open that a store has not loaded yet: kept until it has. */
  private readonly pinned = new Set<string>()
  private pending: PendingRecord[] = []
  private pendingBytes = 0
  private lastSeq = 0
  private durableSeq = 0
  private waiters: Waiter[] = []
  private flushing: Promise<void> | null = null
  private failure: StorageError | null = null
  private closed = false
  private readonly counters = { flushes: 0, records: 0, bytesWritten: 0, checkpoints: 0 }

  private constructor(
    private readonly disk: Disk,
    private readonly o: ResolvedWalOptions,
    /** Every group's state including buffered writes: what new writes are checked against. */
    private readonly groups: Map<string, GroupLog<SnapshotRef>>,
    segments: LiveSegment[],
  ) {
    this.snapDir = joinPath(o.dir, snapshotDirName)
    this.segments = segments
    for (const [id, log] of groups) {
      if (!log.snapshot) continue
      this.durableSnapshots.set(id, log.snapshot.file)
      this.pinned.add(log.snapshot.file)
    }
  }

  /** Recovers the log in `options.dir` (creating it if needed). Rejects with WAL_CORRUPT if it cannot. */
  static async open(disk: Disk, options: WalOptions): Promise<WriteAheadLog> {
    const o = resolveWalOptions(options)
    const { groups, segments } = await recoverWal(disk, o)
    return new WriteAheadLog(disk, o, groups, segments)
  }

  /** The LogStorage of one group; the same object until it is closed. */
  group(id: string): LogStorage {
    this.checkOpen()
    invariant(validGroupId(id), `invalid Raft group id ${JSON.stringify(id)}`)
    const existing = this.stores.get(id)
    if (existing) return existing
    // What load() returns: the state when the store was made (durable, unless made after writes).
    let opened: GroupState | null = this.groupState(id)
    const store: WalLogStorage = new WalLogStorage(id, {
      load: () => {
        const state = opened ?? this.groupState(id)
        opened = null // loaded once at start; do not pin the old log in memory
        return this.loadGroup(id, state)
      },
      append: (entries) => this.appendEntries(id, entries),
      setHardState: (state) => this.setHardState(id, state),
      saveSnapshot: (snapshot) => this.saveSnapshot(id, snapshot),
      sync: () => this.sync(),
      release: () => this.stores.get(id) === store && this.stores.delete(id),
    })
    this.stores.set(id, store)
    return store
  }

  /** Ids of the groups that have state in the log, sorted. */
  groupIds(): string[] {
    return [...this.groups.keys()].sort()
  }

  /** Resolves when every write buffered before the call, of any group, is durable. */
  sync(): Promise<void> {
    if (this.closed) return Promise.reject(closedError())
    return this.syncTo(this.lastSeq)
  }

  /** Makes buffered writes durable and finishes maintenance; the disk stays open (its owner closes it). */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      if (!this.failure) await this.syncTo(this.lastSeq)
    } finally {
      await this.flushing
    }
  }

  get stats(): WalStats {
    return { ...this.counters, segments: this.segments.length }
  }

  private appendEntries(group: string, entries: Entry[]): void {
    this.checkOpen()
    if (entries.length === 0) return
    const log = this.groupLog(group)
    const problem = log.appendProblem(entries)
    invariant(problem === null, `LogStorage(${group}).append: ${problem}`)
    const records = this.entriesRecords(group, entries)
    log.append(entries)
    for (const bytes of records) this.enqueue(bytes, null)
  }

  private setHardState(group: string, state: HardState): void {
    this.checkOpen()
    const copy = { term: state.term, vote: state.vote, commit: state.commit }
    this.groupLog(group).hardState = copy
    this.enqueue(encodeRecord({ type: 'hardState', group, state: copy }), null)
  }

  private saveSnapshot(group: string, snapshot: Snapshot): void {
    this.checkOpen()
    const log = this.groupLog(group)
    const problem = log.snapshotProblem(snapshot.meta)
    invariant(problem === null, `LogStorage(${group}).saveSnapshot: ${problem}`)
    const { index, term } = snapshot.meta
    const ref: SnapshotRef = { meta: structuredClone(snapshot.meta), file: snapshotFileName(group, index, term) }
    const job: SnapshotJob = { group, file: ref.file, bytes: encodeSnapshotFile(group, snapshot) }
    log.applySnapshot(ref)
    this.enqueue(encodeRecord({ type: 'snapshot', group, ref }), job)
  }

  private async loadGroup(group: string, opened: GroupState): Promise<PersistedState> {
    const snapshot = opened.snapshot && (await this.readSnapshot(group, opened.snapshot))
    return { hardState: { ...opened.hardState }, snapshot, entries: opened.entries.slice() }
  }

  private async readSnapshot(group: string, ref: SnapshotRef): Promise<Snapshot> {
    const buf = await this.disk.read(joinPath(this.snapDir, ref.file))
    if (!buf) throw corrupt(`snapshot file ${ref.file} is missing`)
    let decoded: ReturnType<typeof decodeSnapshotFile>
    try {
      decoded = decodeSnapshotFile(buf, this.o.maxRecordBytes)
    } catch (err) {
      if (err instanceof FormatProblem) throw corrupt(`snapshot file ${ref.file}: ${err.message}`)
      throw err
    }
    const { meta } = decoded.snapshot
    if (decoded.group !== group || meta.index !== ref.meta.index || meta.term !== ref.meta.term) {
      throw corrupt(`snapshot file ${ref.file} holds group ${decoded.group} at ${meta.index}/${meta.term}`)
    }
    this.pinned.delete(ref.file)
    return { meta: ref.meta, data: decoded.snapshot.data }
  }

  /** Encodes entries as records of about entriesChunkBytes; checks sizes before anything changes. */
  private entriesRecords(group: string, entries: readonly Entry[]): Uint8Array[] {
    const chunkBytes = Math.min(entriesChunkBytes, this.o.maxRecordBytes >>> 1)
    const records: Uint8Array[] = []
    let start = 0
    let size = 0
    for (let i = 0; i <= entries.length; i++) {
      const bytes = i < entries.length ? entries[i]!.data.byteLength + 16 : 0
      if (i === entries.length || (i > start && size + bytes > chunkBytes)) {
        const record = encodeRecord({ type: 'entries', group, entries: entries.slice(start, i) })
        if (record.byteLength - frameHeaderBytes > this.o.maxRecordBytes) {
          throw new StorageError('RECORD_TOO_LARGE', `entry ${entries[start]!.index} of group ${group} exceeds maxRecordBytes`)
        }
        records.push(record)
        start = i
        size = 0
      }
      size += bytes
    }
    return records
  }

  private enqueue(bytes: Uint8Array, snapshot: SnapshotJob | null): void {
    if (this.failure) return
    this.pending.push({ bytes, seq: ++this.lastSeq, snapshot })
    this.pendingBytes += bytes.byteLength
    // Bounds what waits for a sync: a full batch goes out without one.
    if (this.pendingBytes >= this.o.maxBatchBytes) this.startFlushing()
  }

  private syncTo(seq: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure)
    if (seq <= this.durableSeq) return Promise.resolve()
    let waiter = this.waiters.at(-1)
    if (waiter?.seq !== seq) {
      let resolve!: () => void
      let reject!: (err: unknown) => void
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)))
      waiter = { seq, promise, resolve, reject }
      this.waiters.push(waiter)
    }
    this.startFlushing()
    return waiter.promise
  }

  /** Group commit: the flush starts a microtask later, so the whole current turn's writes join it. */
  private startFlushing(): void {
    if (this.flushing || this.failure || this.pending.length === 0) return
    this.flushing = Promise.resolve().then(() => this.flushLoop())
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0 && !this.failure) {
        const batch = this.cutBatch()
        await this.writeBatch(batch)
        this.durableSeq = batch.lastSeq
        this.releaseWaiters()
        await this.collectGarbage(batch)
      }
    } catch (err) {
      this.fail(err)
    } finally {
      // Synchronous with the loop's last check: a record enqueued from now on starts a new loop.
      this.flushing = null
    }
  }

  private cutBatch(): Batch {
    let count = 0
    let size = 0
    for (const r of this.pending) {
      if (count > 0 && size + r.bytes.byteLength > this.o.maxBatchBytes) break
      size += r.bytes.byteLength
      count++
    }
    const taken = this.pending.splice(0, count)
    this.pendingBytes -= size
    const current = this.segments.at(-1)
    const newSegment = current === undefined || current.bytes >= this.o.segmentBytes
    // A checkpoint is the state after every buffered write, so only when the batch takes them all.
    const seq = this.nextSegmentSeq()
    const checkpoint = newSegment && this.pending.length === 0 && this.checkpointDue() ? { seq, bytes: this.encodeCheckpoint(seq) } : null
    return {
      records: taken.map((r) => r.bytes),
      lastSeq: taken.at(-1)!.seq,
      snapshots: taken.flatMap((r) => r.snapshot ?? []),
      newSegment,
      checkpoint,
    }
  }

  private async writeBatch(batch: Batch): Promise<void> {
    // A record must never be durable without the snapshot file it names.
    const byFile = new Map(batch.snapshots.map((job) => [job.file, job]))
    await Promise.all([...byFile.values()].map((job) => this.writeSnapshotFile(job)))
    if (batch.checkpoint) return this.writeCheckpoint(batch.checkpoint.seq, batch.checkpoint.bytes)
    let bytes = concat(batch.records)
    if (batch.newSegment) {
      const seq = this.nextSegmentSeq()
      bytes = concat([encodeRecord({ type: 'header', version: walFormatVersion, seq, checkpoint: false }), bytes])
      this.segments.push({ seq, checkpoint: false, name: segmentName(seq, false), bytes: 0 })
    }
    const segment = this.segments.at(-1)!
    const path = joinPath(this.o.dir, segment.name)
    if (this.disk.appendDurable) await this.disk.appendDurable(path, bytes)
    else {
      await this.disk.append(path, bytes)
      await this.disk.sync(path)
    }
    segment.bytes += bytes.byteLength
    if (batch.newSegment) await this.disk.syncDir(this.o.dir)
    this.counted(batch.records.length, bytes.byteLength)
  }

  private async writeSnapshotFile(job: SnapshotJob): Promise<void> {
    const path = joinPath(this.snapDir, job.file)
    await this.disk.write(path + tmpSuffix, job.bytes)
    await this.disk.sync(path + tmpSuffix)
    await this.disk.rename(path + tmpSuffix, path)
    await this.disk.syncDir(this.snapDir)
  }

  /** Written whole under a temporary name and renamed: a checkpoint segment is complete or absent. */
  private async writeCheckpoint(seq: number, bytes: Uint8Array): Promise<void> {
    const name = segmentName(seq, true)
    const path = joinPath(this.o.dir, name)
    await this.disk.write(path + tmpSuffix, bytes)
    await this.disk.sync(path + tmpSuffix)
    await this.disk.rename(path + tmpSuffix, path)
    await this.disk.syncDir(this.o.dir)
    this.obsolete.push(...this.segments)
    this.segments = [{ seq, checkpoint: true, name, bytes: bytes.byteLength }]
    this.counters.checkpoints++
    this.counted(0, bytes.byteLength)
    this.o.log(`wal: checkpoint ${name} (${bytes.byteLength} bytes) supersedes ${this.obsolete.length} segment(s)`)
  }

  private checkpointDue(): boolean {
    if (this.segments.length + 1 <= this.o.maxSegments) return false
    let logBytes = 0
    for (const s of this.segments) logBytes += s.bytes
    let liveBytes = 0
    for (const log of this.groups.values()) {
      liveBytes += 64
      for (const e of log.entries) liveBytes += e.data.byteLength + 16
    }
    if (liveBytes * 2 <= logBytes) return true
    this.o.log(`wal: ${this.segments.length} segments hold ${logBytes} bytes, live state about ${liveBytes}: no checkpoint until groups snapshot`)
    return false
  }

  /** The full live state of every group, as a segment that replaces all earlier ones. */
  private encodeCheckpoint(seq: number): Uint8Array {
    const parts = [encodeRecord({ type: 'header', version: walFormatVersion, seq, checkpoint: true })]
    for (const id of this.groupIds()) {
      const log = this.groups.get(id)!
      parts.push(encodeRecord({ type: 'hardState', group: id, state: log.hardState }))
      if (log.snapshot) parts.push(encodeRecord({ type: 'snapshot', group: id, ref: log.snapshot }))
      if (log.entries.length > 0) parts.push(...this.entriesRecords(id, log.entries))
    }
    return concat(parts)
  }

  /** After a batch is durable: deletes superseded segments and snapshot files. */
  private async collectGarbage(batch: Batch): Promise<void> {
    if (this.obsolete.length > 0) {
      const old = this.obsolete
      this.obsolete = []
      for (const s of old) await this.disk.remove(joinPath(this.o.dir, s.name))
      await this.disk.syncDir(this.o.dir)
    }
    for (const job of batch.snapshots) {
      const previous = this.durableSnapshots.get(job.group)
      this.durableSnapshots.set(job.group, job.file)
      if (previous !== undefined && previous !== job.file && !this.pinned.has(previous)) {
        await this.disk.remove(joinPath(this.snapDir, previous))
      }
    }
  }

  private releaseWaiters(): void {
    let done = 0
    while (done < this.waiters.length && this.waiters[done]!.seq <= this.durableSeq) done++
    for (const w of this.waiters.splice(0, done)) w.resolve()
  }

  /** A failed write or sync leaves durability unknown (fsync errors are not retryable): stop for good. */
  private fail(err: unknown): void {
    if (this.failure) return
    this.failure = new StorageError('WAL_FAILED', `write-ahead log failed: ${(err as Error)?.message ?? String(err)}`, { cause: err })
    this.o.log(`wal: ${this.failure.message}; every later sync fails until the log is reopened`)
    this.pending = []
    this.pendingBytes = 0
    for (const w of this.waiters.splice(0)) w.reject(this.failure)
  }

  private counted(records: number, bytes: number): void {
    this.counters.flushes++
    this.counters.records += records
    this.counters.bytesWritten += bytes
  }

  private nextSegmentSeq(): number {
    return (this.segments.at(-1)?.seq ?? 0) + 1
  }

  private groupState(group: string): GroupState {
    const log = this.groups.get(group)
    if (!log) return { hardState: new GroupLog().hardState, snapshot: null, entries: [] }
    return { hardState: log.hardState, snapshot: log.snapshot, entries: log.entries.slice() }
  }

  private groupLog(group: string): GroupLog<SnapshotRef> {
    let log = this.groups.get(group)
    if (!log) this.groups.set(group, (log = new GroupLog<SnapshotRef>()))
    return log
  }

  private checkOpen(): void {
    if (this.closed) throw closedError()
  }
}

function validGroupId(id: unknown): id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > maxGroupIdLength) return false
  try {
    encodeURIComponent(id) // throws on lone surrogates, which no file name can hold
    return true
  } catch {
    return false
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!
  let size = 0
  for (const p of parts) size += p.byteLength
  const out = new Uint8Array(size)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}

function closedError(): StorageError {
  return new StorageError('STORAGE_CLOSED', 'write-ahead log is closed')
}

function corrupt(message: string): StorageError {
  return new StorageError('WAL_CORRUPT', `write-ahead log corrupt: ${message}`)
}
