import { CodedError } from '@troupe/runtime/errors'

/** Stable codes of the failures discovery and Cluster Bootstrap report. */
export const DiscoveryErrorCode = {
  /** A discovery backend (DNS, the Kubernetes API) failed or answered something unusable; bootstrap retries it. */
  DISCOVERY_FAILED: 'DISCOVERY_FAILED',
  /** A bootstrap probe of a contact failed: refused, timed out, unauthenticated, or a malformed answer. */
  PROBE_FAILED: 'PROBE_FAILED',
  /** The discovery config is malformed (a missing port, a bad selector, tunables that break the safety margin). */
  INVALID_DISCOVERY_CONFIG: 'INVALID_DISCOVERY_CONFIG',
  /** The caller's signal aborted bootstrap before it decided. */
  BOOTSTRAP_ABORTED: 'BOOTSTRAP_ABORTED',
} as const

export type DiscoveryErrorCode = (typeof DiscoveryErrorCode)[keyof typeof DiscoveryErrorCode]

const RETRYABLE: ReadonlySet<string> = new Set<DiscoveryErrorCode>(['DISCOVERY_FAILED', 'PROBE_FAILED'])

/**
 * A failure of discovery or bootstrap. `backend` names what failed
 * ('dns', 'kubernetes', 'contacts', 'probe', 'config').
 */
export class DiscoveryError extends CodedError<DiscoveryErrorCode> {
  override readonly name: string = 'DiscoveryError'
  constructor(
    code: DiscoveryErrorCode,
    readonly backend: string,
    message: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(code, `${backend}: ${message}`, options, RETRYABLE)
  }
}

export function isDiscoveryError(err: unknown, code?: DiscoveryErrorCode): err is DiscoveryError {
  return err instanceof DiscoveryError && (code === undefined || err.code === code)
}
