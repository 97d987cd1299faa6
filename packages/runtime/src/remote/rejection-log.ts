import type { Clock } from '../clock.js'

/** The bounds a peer can hit; each is reported on its own. */
export type PeerLimit = 'frame-bytes' | 'queued-bytes' | 'asks' | 'watches'

/**
 * Reports work refused from a peer over a limit, at most once per peer and
 * limit per interval: a flood of refusals costs a count, not a log line each.
 * A report says how many refusals the previous interval left unreported.
 */
export class RejectionLog {
  /** Per `${peer}\0${limit}`: when it was last reported and what has been refused since. Bounded by peers × 4 limits. */
  private readonly last = new Map<string, { atMs: number; unreported: number }>()

  constructor(
    private readonly clock: Clock,
    private readonly report: (from: string, reason: string) => void,
    /** Reports per peer and limit are at least this far apart. */
    private readonly intervalMs = 1000,
  ) {}

  refused(from: string, limit: PeerLimit, reason: string): void {
    const key = `${from}\u0000${limit}`
    const now = this.clock.now()
    const entry = this.last.get(key)
    if (entry !== undefined && now - entry.atMs < this.intervalMs) {
      entry.unreported++
      return
    }
    const more = entry !== undefined && entry.unreported > 0 ? ` (and ${entry.unreported} more refused since the last report)` : ''
    this.last.set(key, { atMs: now, unreported: 0 })
    this.report(from, `${reason}${more}`)
  }

  /** `node` is gone: forget its counts. */
  forget(node: string): void {
    for (const key of this.last.keys()) if (key.startsWith(`${node}\u0000`)) this.last.delete(key)
  }
}
