import { CodedError } from '@troupe/runtime/errors'

/**
 * Codes of the errors `startNode` and a node handle raise. A closed set:
 * match on `code`, never on the message.
 */
export const NodeErrorCode = {
  /** The cluster port (or the HTTP port) is taken by another process; the message names host:port. */
  ADDRESS_IN_USE: 'ADDRESS_IN_USE',
  /** The data directory cannot be written (read-only file system, no permission); the message says which. */
  DATA_DIR_NOT_WRITABLE: 'DATA_DIR_NOT_WRITABLE',
  /** A peer refused our handshake (or we refused its): the cluster secrets differ. The message names the peer. */
  AUTH_FAILED: 'AUTH_FAILED',
  /** `whenUp` did not see enough up members within its timeout (retryable: call it again). */
  UP_TIMEOUT: 'UP_TIMEOUT',
  /** The node is shutting down, was removed, or was downed: it will not be up again in this run. */
  NODE_STOPPED: 'NODE_STOPPED',
  /** A service was used that this node's config did not enable (e.g. `node.leases` without `services.leases`). */
  NOT_CONFIGURED: 'NOT_CONFIGURED',
  /** An HTTP route is already mounted at this method and path. */
  ROUTE_TAKEN: 'ROUTE_TAKEN',
} as const

export type NodeErrorCode = (typeof NodeErrorCode)[keyof typeof NodeErrorCode]

const RETRYABLE: ReadonlySet<string> = new Set<NodeErrorCode>(['UP_TIMEOUT'])

export class NodeError extends CodedError<NodeErrorCode> {
  override readonly name: string = 'NodeError'
  /** The peer a handshake failed with (AUTH_FAILED), or the address that is taken (ADDRESS_IN_USE). */
  readonly subject: string | null

  constructor(code: NodeErrorCode, message: string, options?: { cause?: unknown; subject?: string }) {
    super(code, message, options, RETRYABLE)
    this.subject = options?.subject ?? null
  }
}

export function isNodeError(err: unknown, code?: NodeErrorCode): err is NodeError {
  return err instanceof NodeError && (code === undefined || err.code === code)
}
