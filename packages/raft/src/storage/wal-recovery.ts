import type { Disk } from '@troupe/runtime'
import { GroupLog } from './group-log.js'
import { StorageError } from './storage-error.js'
import { decodeRecord, FormatProblem, readFrame, walFormatVersion, type SnapshotRef, type WalRecord } from './wal-codec.js'
import { dirChain, joinPath, parseSegmentName, snapshotDirName, tmpSuffix, type SegmentName } from './wal-files.js'
import type { ResolvedWalOptions } from './wal-options.js'

export interface LiveSegment extends SegmentName {
  /** Bytes in the file (the next append goes there). */
  bytes: number
}

export interface RecoveredWal {
  groups: Map<string, GroupLog<SnapshotRef>>
  /** Live segments in order; the last is the one to append to. */
  segments: LiveSegment[]
}

/**
 * Rebuilds every group's state from the log: replays the segments from the
 * latest checkpoint on, checking every record's checksums. A torn or corrupt
 * record at the very end of the last segment is a write cut short by a crash
 * (never acknowledged, since acknowledgement follows fdatasync): it is
 * truncated. Anything else that fails is WAL_CORRUPT; nothing is skipped.
 * Also deletes leftovers: temporary files, superseded segments, and snapshot
 * files no group refers to.
 */
export async function recoverWal(disk: Disk, o: ResolvedWalOptions): Promise<RecoveredWal> {
  const snapDir = joinPath(o.dir, snapshotDirName)
  await disk.mkdir(snapDir)
  // A directory made by mkdir is durable only once its parent is synced.
  for (const d of [...dirChain(o.dir), snapDir]) await disk.syncDir(d)

  const names = await disk.list(o.dir)
  await removeAll(disk, o.dir, names.filter((n) => n.endsWith(tmpSuffix)))
  const all = names.flatMap((n) => parseSegmentName(n) ?? []).sort((a, b) => a.seq - b.seq)
  const start = all.findLastIndex((s) => s.checkpoint)
  const stale = start > 0 ? all.slice(0, start) : []
  const chain = start >= 0 ? all.slice(start) : all
  checkChain(chain)

  const groups = new Map<string, GroupLog<SnapshotRef>>()
  const segments: LiveSegment[] = []
  for (const [i, seg] of chain.entries()) {
    const path = joinPath(o.dir, seg.name)
    const buf = (await disk.read(path)) ?? new Uint8Array(0)
    const isLast = i === chain.length - 1
    const validBytes = replaySegment(seg, buf, isLast, groups, o)
    if (validBytes === 0) {
      // Only the last segment can get here: a crash right after creating it.
      o.log(`wal: removing ${seg.name}, which ends before its header`)
      await disk.remove(path)
      await disk.syncDir(o.dir)
    } else {
      if (validBytes < buf.byteLength) {
        o.log(`wal: truncating torn tail of ${seg.name} at byte ${validBytes} of ${buf.byteLength}`)
        await disk.truncate(path, validBytes)
      }
      // What we read may be only in the page cache (the process died, or an earlier open's
      // sync failed): make it durable before anything is built on it.
      if (isLast) await disk.sync(path)
      segments.push({ ...seg, bytes: validBytes })
    }
  }
  if (stale.length > 0) {
    o.log(`wal: removing ${stale.length} segment(s) superseded by checkpoint ${chain[0]!.name}`)
    await removeAll(disk, o.dir, stale.map((s) => s.name))
    await disk.syncDir(o.dir)
  }
  await collectSnapshots(disk, snapDir, groups)
  return { groups, segments }
}

/** Segments after a checkpoint (or from the first, which must be 1) are consecutive. */
function checkChain(chain: SegmentName[]): void {
  const first = chain[0]
  if (first && !first.checkpoint && first.seq !== 1) throw corrupt(`${first.name} is the oldest segment but neither 1 nor a checkpoint`)
  for (let i = 1; i < chain.length; i++) {
    if (chain[i]!.seq !== chain[i - 1]!.seq + 1) throw corrupt(`segment ${chain[i - 1]!.seq + 1} is missing before ${chain[i]!.name}`)
  }
}

/** Applies a segment's records; returns how many bytes of it are valid. */
function replaySegment(seg: SegmentName, buf: Uint8Array, isLast: boolean, groups: Map<string, GroupLog<SnapshotRef>>, o: ResolvedWalOptions): number {
  let offset = 0
  for (;;) {
    const read = readFrame(buf, offset, o.maxRecordBytes)
    if (read.kind === 'end') break
    if (read.kind === 'torn' || (read.kind === 'corrupt' && read.last)) {
      if (!isLast) throw corrupt(`${seg.name} at byte ${offset}: ${read.reason} (not the last segment)`)
      o.log(`wal: ${seg.name} ends with a torn record at byte ${offset}: ${read.reason}`)
      return offset
    }
    if (read.kind === 'corrupt') throw corrupt(`${seg.name} at byte ${offset}: ${read.reason}`)
    let record: WalRecord
    try {
      record = decodeRecord(read.payload)
    } catch (err) {
      if (err instanceof FormatProblem) throw corrupt(`${seg.name} at byte ${offset}: ${err.message}`)
      throw err
    }
    const problem = offset === 0 ? headerProblem(seg, record, groups) : applyRecord(record, groups)
    if (problem !== null) throw corrupt(`${seg.name} at byte ${offset}: ${problem}`)
    offset = read.next
  }
  if (offset === 0 && !isLast) throw corrupt(`${seg.name} is empty but not the last segment`)
  return offset
}

function headerProblem(seg: SegmentName, r: WalRecord, groups: Map<string, GroupLog<SnapshotRef>>): string | null {
  if (r.type !== 'header') return 'segment does not start with a header'
  if (r.version !== walFormatVersion) return `unsupported format version ${r.version}`
  if (r.seq !== seg.seq || r.checkpoint !== seg.checkpoint) return `header says segment ${r.seq}${r.checkpoint ? ' (checkpoint)' : ''}`
  // A checkpoint holds the full state that follows it.
  if (r.checkpoint) groups.clear()
  return null
}

function applyRecord(r: WalRecord, groups: Map<string, GroupLog<SnapshotRef>>): string | null {
  if (r.type === 'header') return 'header record inside a segment'
  let log = groups.get(r.group)
  if (!log) groups.set(r.group, (log = new GroupLog<SnapshotRef>()))
  if (r.type === 'hardState') {
    log.hardState = r.state
    return null
  }
  if (r.type === 'entries') {
    const problem = log.appendProblem(r.entries)
    if (problem === null) log.append(r.entries)
    return problem && `group ${r.group}: ${problem}`
  }
  const problem = log.snapshotProblem(r.ref.meta)
  if (problem === null) log.applySnapshot(r.ref)
  return problem && `group ${r.group}: ${problem}`
}

/** Deletes snapshot files that no group refers to (superseded ones, or written by a torn batch). */
async function collectSnapshots(disk: Disk, snapDir: string, groups: Map<string, GroupLog<SnapshotRef>>): Promise<void> {
  const live = new Set<string>()
  for (const log of groups.values()) if (log.snapshot) live.add(log.snapshot.file)
  const names = await disk.list(snapDir)
  await removeAll(disk, snapDir, names.filter((n) => !live.has(n)))
  for (const file of live) {
    if (!names.includes(file)) throw corrupt(`snapshot file ${file} is missing`)
  }
}

async function removeAll(disk: Disk, dir: string, names: string[]): Promise<void> {
  for (const name of names) await disk.remove(joinPath(dir, name))
}

function corrupt(message: string): StorageError {
  return new StorageError('WAL_CORRUPT', `write-ahead log corrupt: ${message}`)
}
