import { ErrorCode, RemoteError, TroupeError } from '../errors.js'
import type { StopReason } from '../signals.js'
import type { WireError, WireStopReason } from './wire.js'

const runtimeCodes: ReadonlySet<string> = new Set(Object.values(ErrorCode))

/** An error as it crosses the wire: its class name, message and code (when it has a string one). */
export function toWireError(err: unknown): WireError {
  if (err instanceof RemoteError) return { name: err.remoteName, message: err.message, code: err.code }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) }
  }
  return { name: 'Error', message: String(err) }
}

/**
 * An error from another node: a TroupeError when its code is one of the
 * runtime's, a RemoteError keeping any other code (and the class name it had
 * there), a plain Error when it had no code.
 */
export function fromWireError(value: unknown): Error {
  const w = (typeof value === 'object' && value !== null ? value : { message: String(value) }) as Partial<WireError>
  const message = typeof w.message === 'string' ? w.message : 'remote error'
  const name = typeof w.name === 'string' ? w.name : 'Error'
  if (typeof w.code === 'string') {
    return runtimeCodes.has(w.code) ? new TroupeError(w.code as ErrorCode, message) : new RemoteError(w.code, message, name)
  }
  const err = new Error(message)
  err.name = name
  return err
}

export function toWireReason(reason: StopReason): WireStopReason {
  switch (reason.kind) {
    case 'failed':
      return { kind: 'failed', error: toWireError(reason.error) }
    case 'node-down':
      return { kind: 'node-down', node: reason.node }
    default:
      return { kind: reason.kind }
  }
}

export function fromWireReason(w: WireStopReason): StopReason {
  switch (w.kind) {
    case 'failed':
      return { kind: 'failed', error: fromWireError(w.error) }
    case 'node-down':
      return { kind: 'node-down', node: String(w.node) }
    case 'not-found':
      return { kind: 'not-found' }
    case 'system-stopped':
      return { kind: 'system-stopped' }
    default:
      return { kind: 'stopped' }
  }
}
