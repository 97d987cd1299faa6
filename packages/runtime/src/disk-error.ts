import { CodedError } from './errors.js'

/**
 * Operating failures of a `Disk`. Callers act on `code`: an invalid path is a
 * caller bug at the edge, a missing file is often expected, and an I/O error
 * means the data's durability is unknown (a durable log must stop and recover).
 */
export const DiskErrorCode = {
  INVALID_PATH: 'INVALID_PATH',
  NOT_FOUND: 'NOT_FOUND',
  /** A write where the disk may not write: a read-only file system, or no write permission on the data dir. */
  NOT_WRITABLE: 'NOT_WRITABLE',
  /** A read where the disk may not read (no permission). */
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  IO_ERROR: 'IO_ERROR',
} as const

export type DiskErrorCode = (typeof DiskErrorCode)[keyof typeof DiskErrorCode]

export class DiskError extends CodedError<DiskErrorCode> {
  override readonly name: string = 'DiskError'
  constructor(code: DiskErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}

/** True when `err` is a DiskError, optionally with the given code. */
export function isDiskError(err: unknown, code?: DiskErrorCode): err is DiskError {
  return err instanceof DiskError && (code === undefined || err.code === code)
}
