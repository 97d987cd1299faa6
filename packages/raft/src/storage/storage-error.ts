import { CodedError } from '@troupe/runtime/errors'

/** Stable codes of the operating failures a LogStorage reports. */
export const StorageErrorCode = {
  /** A record in the middle of the log (or a snapshot file) fails its checksum or does not parse. */
  WAL_CORRUPT: 'WAL_CORRUPT',
  /** A write or sync failed; durability of what was buffered is unknown: restart and recover. */
  WAL_FAILED: 'WAL_FAILED',
  /** The store (or its log) was closed, or replaced by a reopened one. */
  STORAGE_CLOSED: 'STORAGE_CLOSED',
  /** One entry is larger than the log's `maxRecordBytes`. */
  RECORD_TOO_LARGE: 'RECORD_TOO_LARGE',
} as const

export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode]

export class StorageError extends CodedError<StorageErrorCode> {
  override readonly name: string = 'StorageError'
  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}
