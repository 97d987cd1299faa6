import { TroupeError } from './errors.js'

/**
 * What a parent does when its child fails (a handler throws, or onStart fails).
 * - restart: fresh state from `initial()`, after an exponential backoff; after
 *   `maxRestarts` within `withinMs` the child stops and the parent is told.
 * - resume: keep the state and go on with the next message.
 * - stop: stop the child; the parent is told.
 * - escalate: stop the child and fail the parent with the error.
 */
export type SupervisionStrategy =
  | { onFailure: 'restart'; maxRestarts?: number; withinMs?: number; backoff?: BackoffOptions }
  | { onFailure: 'resume' }
  | { onFailure: 'stop' }
  | { onFailure: 'escalate' }

export interface BackoffOptions {
  /** Delay before the first restart in a window. */
  minMs: number
  /** Upper bound on the delay. */
  maxMs: number
  /** Growth per restart (default 2). */
  factor?: number
  /** Random extra fraction of the delay, 0..1 (default 0.2). */
  jitter?: number
}

/** Akka classic's default: restart at once, at most 10 times a minute. */
export const defaultSupervision: SupervisionStrategy = { onFailure: 'restart', maxRestarts: 10, withinMs: 60_000 }

export function validateSupervision(s: SupervisionStrategy): void {
  const ok = ['restart', 'resume', 'stop', 'escalate'].includes(s?.onFailure)
  if (!ok) throw new TroupeError('INVALID_ARGUMENT', `unknown supervision strategy ${JSON.stringify(s)}`)
  if (s.onFailure === 'restart') {
    if (s.maxRestarts !== undefined && !(s.maxRestarts >= 0)) throw new TroupeError('INVALID_ARGUMENT', 'maxRestarts must be >= 0')
    if (s.withinMs !== undefined && !(s.withinMs > 0)) throw new TroupeError('INVALID_ARGUMENT', 'withinMs must be > 0')
    const b = s.backoff
    if (b && !(b.minMs >= 0 && b.maxMs >= b.minMs)) throw new TroupeError('INVALID_ARGUMENT', 'backoff needs 0 <= minMs <= maxMs')
  }
}
