export interface WalOptions {
  /** Directory of the log on its disk ('' for the disk's root). */
  dir: string
  /** A segment is closed, and the next one started, once it holds at least this many bytes. Default 64 MiB. */
  segmentBytes?: number
  /** When a new segment would make more than this many, a checkpoint is written instead (if it reclaims space). Default 4. */
  maxSegments?: number
  /** Most bytes of records carried by one write + fdatasync (a single larger record still goes alone). Default 16 MiB. */
  maxBatchBytes?: number
  /** Largest encoded record; an entry that does not fit is rejected with RECORD_TOO_LARGE. Default 64 MiB. */
  maxRecordBytes?: number
  /** Receives one line per recovery or maintenance event (torn tail truncated, checkpoint written). */
  log?: (line: string) => void
}

export type ResolvedWalOptions = Required<Omit<WalOptions, 'log'>> & { log: (line: string) => void }

export function resolveWalOptions(options: WalOptions): ResolvedWalOptions {
  const o: ResolvedWalOptions = {
    dir: options.dir,
    segmentBytes: options.segmentBytes ?? 64 * 1024 * 1024,
    maxSegments: options.maxSegments ?? 4,
    maxBatchBytes: options.maxBatchBytes ?? 16 * 1024 * 1024,
    maxRecordBytes: options.maxRecordBytes ?? 64 * 1024 * 1024,
    log: options.log ?? (() => {}),
  }
  for (const key of ['segmentBytes', 'maxSegments', 'maxBatchBytes', 'maxRecordBytes'] as const) {
    if (!Number.isSafeInteger(o[key]) || o[key] < 1) throw new RangeError(`WalOptions.${key} must be a positive integer`)
  }
  if (o.maxRecordBytes < 1024) throw new RangeError('WalOptions.maxRecordBytes must be at least 1024')
  return o
}
