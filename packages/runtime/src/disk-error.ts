/**
 * Operating failures of a `Disk`. Callers act on `code`: an invalid path is a
 * caller bug at the edge, a missing file is often expected, and an I/O error
 * means the data's durability is unknown (a durable log must stop and recover).
 */
export const DiskErrorCode = {
  InvalidPath: 'INVALID_PATH',
  NotFound: 'NOT_FOUND',
  Io: 'IO_ERROR',
} as const

export type DiskErrorCode = (typeof DiskErrorCode)[keyof typeof DiskErrorCode]

export class DiskError extends Error {
  readonly code: DiskErrorCode
  constructor(code: DiskErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = 'DiskError'
  }
}

/** True when `err` is a DiskError, optionally with the given code. */
export function isDiskError(err: unknown, code?: DiskErrorCode): err is DiskError {
  return err instanceof DiskError && (code === undefined || err.code === code)
}
