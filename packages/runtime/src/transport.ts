import type { TroupeError } from './errors.js'
import type { VersionRange } from './wire-version.js'

/**
 * Moves frames (opaque bytes) between named nodes. The remoting layer above
 * encodes envelopes and batches them; a transport only connects, frames and
 * delivers. Implementations: the in-memory transport, the testkit's simulated
 * network and the WebSocket transport; all run one conformance suite.
 *
 * Contract: frames between a pair of nodes arrive in the order sent, at most
 * once, unless the network is faulty (a simulated network may drop, duplicate
 * or reorder frames to test the layers above).
 */
export interface Transport {
  /** Starts delivering frames for node `self` to `handler`. */
  start(self: string, handler: TransportHandler): Promise<void>
  /**
   * Queues a frame for `node`. Never throws for an unreachable node (the frame
   * is dropped and the layers above time out); throws a TroupeError
   * MESSAGE_TOO_LARGE for a frame over the transport's limit, or BACKPRESSURE
   * when the transport's buffer for that node is full.
   */
  send(node: string, frame: Uint8Array): void
  stop(): Promise<void>
  /** False when the buffer for `node` is full; remoting then refuses new user messages with BACKPRESSURE. */
  writable?(node: string): boolean
  /** Learns or updates the address of `node` (cluster membership calls this). Optional: in-process transports need none. */
  addPeer?(node: string, address: string): void
  /** The wire versions this transport speaks (absent: this build's default, `WIRE_VERSION` only). */
  readonly versions?: VersionRange
  /**
   * The wire version agreed with `node` on the current connection, or
   * undefined while there is none (not connected yet). Remoting encodes for
   * it; absent, every peer speaks `versions.min`.
   */
  peerVersion?(node: string): number | undefined
  /** Subscribes to the transport's typed events (optional: in-process transports have none to report). */
  on?<K extends keyof TransportEvents>(event: K, fn: (...args: TransportEvents[K]) => void): unknown
  off?<K extends keyof TransportEvents>(event: K, fn: (...args: TransportEvents[K]) => void): unknown
}

/** Events a transport reports about its peers (`transport.on(...)`). */
export interface TransportEvents {
  /** A handshake failed its proof: this node and the peer hold different cluster secrets. */
  authFailed: [AuthFailure]
  /** A handshake found no wire version both nodes speak: one of them must be upgraded (or rolled back). */
  versionMismatch: [VersionMismatch]
}

/** One handshake refused because the two nodes' version ranges do not overlap (close code BadVersion). */
export interface VersionMismatch {
  /** As in AuthFailure: the node dialed, or the name the peer claimed. */
  readonly peer: string
  readonly address: string
  readonly direction: 'outbound' | 'inbound'
  readonly refusedBy: 'self' | 'peer'
  /** What this node speaks. */
  readonly local: VersionRange
  /** What the peer said it speaks; null when it refused before saying (a version-1 node). */
  readonly remote: VersionRange | null
  /** A TroupeError PROTOCOL_MISMATCH (not retryable) naming the peer and both ranges. */
  readonly error: TroupeError
}

/**
 * One refused handshake round with a peer whose proof did not match, seen
 * from this node: either this node refused the peer's proof or the peer
 * refused ours (close code AuthFailed). Reported once per refused connection;
 * a dialing node keeps redialing with backoff, so it repeats.
 */
export interface AuthFailure {
  /**
   * The peer's node name: the node this one dialed (outbound), or the name
   * the peer claimed in its Hello (inbound; unauthenticated, so only a hint).
   */
  readonly peer: string
  /** The dialed URL (outbound) or the peer's `host:port` (inbound). */
  readonly address: string
  /** 'outbound': this node dialed; 'inbound': the peer dialed this node. */
  readonly direction: 'outbound' | 'inbound'
  /** Which side found the proof wrong. */
  readonly refusedBy: 'self' | 'peer'
  /** A TroupeError with code AUTH_FAILED (not retryable) naming the peer, for a caller to reject with. */
  readonly error: TroupeError
}

export interface TransportHandler {
  /** A frame from `from`. Must not throw: bad frames are logged and dropped. */
  receive(from: string, frame: Uint8Array): void
  /** The link to `node` is gone (connection closed); frames in flight may be lost. */
  disconnected?(node: string): void
}
