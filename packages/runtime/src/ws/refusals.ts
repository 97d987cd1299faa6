import { TroupeError } from '../errors.js'
import type { TransportEvents } from '../transport.js'
import { formatRange } from '../wire-version.js'
import type { VersionRange } from '../wire-version.js'
import { CloseCode } from './close-codes.js'
import type { Connection } from './connection.js'

/** The typed event a handshake refusal becomes (on either side), or null for other closes. */
export type Refusal =
  | { event: 'authFailed'; args: TransportEvents['authFailed'] }
  | { event: 'versionMismatch'; args: TransportEvents['versionMismatch'] }

/**
 * A connection closed before its handshake completed, by this node or the
 * peer, with AuthFailed or BadVersion: the event that tells the listeners,
 * naming the peer. Other closes are no refusal (null).
 */
export function refusalOf(conn: Connection, local: VersionRange): Refusal | null {
  if (conn.opened) return null
  const peer = conn.name ?? '?'
  const where = `handshake with node '${peer}' (${conn.remote}, ${conn.role})`
  const base = { peer, address: conn.remote, direction: conn.role, refusedBy: conn.closedBy ?? 'peer' } as const
  if (conn.closeCode === CloseCode.AuthFailed) {
    const by = conn.closedBy === 'self' ? "this node refused the peer's proof" : "the peer refused this node's proof"
    const error = new TroupeError('AUTH_FAILED', `${where} failed: ${by}; the cluster secrets differ (${conn.closeReason})`)
    return { event: 'authFailed', args: [{ ...base, error }] }
  }
  if (conn.closeCode === CloseCode.BadVersion) {
    const remote = conn.peerVersions
    const theirs = remote === null ? 'a range it did not say' : formatRange(remote)
    const error = new TroupeError('PROTOCOL_MISMATCH', `${where} refused: no common protocol version (this node speaks ${formatRange(local)}, the peer ${theirs}; ${conn.closeReason})`)
    return { event: 'versionMismatch', args: [{ ...base, local, remote, error }] }
  }
  return null
}
