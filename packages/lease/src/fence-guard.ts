import { FencedError, LeaseError } from './lease-error.js'

export interface FenceGuardOptions {
  /** Names the resource in errors (default 'resource'). */
  resource?: string
  /** The highest token the resource had seen before (restored from its own storage; default 0). */
  highestToken?: number
}

/**
 * Protects a resource (an actor, a file, a database row) from stale lease
 * holders: it remembers the highest fencing token it has seen and refuses
 * any lower one. Check every access, reads included: a read with a newer
 * token is what shuts out an older holder that has read but not yet
 * written. Persist `highestToken` with the resource's data, in the same
 * write, or a restart forgets it.
 */
export class FenceGuard {
  readonly resource: string
  private highest: number

  constructor(options: FenceGuardOptions = {}) {
    this.resource = options.resource ?? 'resource'
    this.highest = options.highestToken ?? 0
    if (!(Number.isSafeInteger(this.highest) && this.highest >= 0)) throw new LeaseError('INVALID_ARGUMENT', `highestToken must be a safe integer >= 0`)
  }

  /** The highest token accepted so far. */
  get highestToken(): number {
    return this.highest
  }

  /** Accepts `token` (and remembers it) or throws FencedError (code FENCED) if it is lower than the highest seen. */
  check(token: number): void {
    if (!this.accept(token)) throw new FencedError(token, this.highest, this.resource)
  }

  /** Like `check`, as a boolean. Equal tokens pass: shared holders granted together share one. */
  accept(token: number): boolean {
    if (!(typeof token === 'number' && Number.isSafeInteger(token) && token > 0)) {
      throw new LeaseError('INVALID_ARGUMENT', `${this.resource}: a fencing token must be a positive safe integer, got ${String(token)}`)
    }
    if (token < this.highest) return false
    this.highest = token
    return true
  }
}
