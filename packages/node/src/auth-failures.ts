// Handshakes refused for a wrong cluster secret. The WebSocket transport
// reports them only as log entries (close code 4002, AuthFailed); this
// watches those entries and tells listeners which peer it was.
// TODO: subscribe to the transport's typed handshake-refused event once the runtime has it.
import { CloseCode } from '@troupe/runtime'
import type { TransportLog, TransportLogEntry } from '@troupe/runtime'

export interface AuthFailure {
  /** The peer's node name when known, else its socket address. */
  peer: string
  reason: string
}

export class AuthFailures {
  private readonly listeners = new Set<(f: AuthFailure) => void>()
  /** The first failure seen, kept so a `whenUp` that starts later still learns of it. */
  first: AuthFailure | null = null

  /** Wraps a transport log: entries pass through unchanged. */
  wrap(log: TransportLog): TransportLog {
    return (entry) => {
      this.observe(entry)
      log(entry)
    }
  }

  observe(entry: TransportLogEntry): void {
    const authFailed = entry.code === CloseCode.AuthFailed || /wrong cluster secret/i.test(entry.reason ?? '')
    if (!authFailed) return
    const failure = { peer: entry.node ?? entry.remote ?? 'unknown peer', reason: entry.reason ?? 'handshake refused' }
    this.first ??= failure
    for (const fn of [...this.listeners]) fn(failure)
  }

  on(fn: (f: AuthFailure) => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** Forgets failures seen so far (after the secret was fixed on the other side, a new `whenUp` starts clean). */
  reset(): void {
    this.first = null
  }
}
