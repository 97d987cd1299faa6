import { TroupeError } from '../errors.js'
import type { StopReason } from '../signals.js'
import type { WireError, WireStopReason } from './wire.js'

/** An error as it crosses the wire: its class name, message and code (when it has a string one). */
export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) }
  }
  return { name: 'Error', message: String(err) }
}

export function fromWireError(value: unknown): Error {
  const w = (typeof value === 'object' && value !== null ? value : { message: String(value) }) as Partial<WireError>
  const message = typeof w.message === 'string' ? w.message : 'remote error'
  if (typeof w.code === 'string') return new TroupeError(w.code as never, message)
  const err = new Error(message)
  if (typeof w.name === 'string') err.name = w.name
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
