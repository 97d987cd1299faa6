import { randomBytes } from 'node:crypto'
import type { Clock } from '../clock.js'
import { realClock } from '../clock.js'
import { TroupeError } from '../errors.js'
import { DEFAULT_VERSIONS, WIRE_VERSION, WIRE_VERSION_MIN, WIRE_VERSION_NEXT } from '../wire-version.js'
import type { VersionRange } from '../wire-version.js'
import type { TransportLog } from './log.js'
import { consoleLog } from './log.js'

export interface TlsOptions {
  /** PEM private key and certificate this node serves `wss://` with. */
  key: string | Buffer
  cert: string | Buffer
  /** PEM CA(s) trusted when dialing peers (e.g. the cluster's own CA or a self-signed cert). */
  ca?: string | Buffer | Array<string | Buffer>
}

export interface WebSocketTransportOptions {
  /** Where to accept connections (port 0: any free port, see `address()`); null: dial only. */
  listen: { host: string; port: number } | null
  /** Address book, node name → `ws://` or `wss://` URL; change it with `addPeer`/`removePeer`. */
  peers?: Record<string, string>
  /** The cluster secret (at least 16 bytes). Peers prove they know it; it never crosses the wire. */
  secret: string | Uint8Array
  /** Local address outgoing connections bind to (default: chosen by the OS), e.g. one of several interfaces. */
  localAddress?: string
  /** Serve and dial `wss://` (every peer URL must then be `wss://`). */
  tls?: TlsOptions
  /** Largest WebSocket message sent or accepted, in bytes (default 16 MiB). */
  maxPayloadBytes?: number
  /**
   * Per peer: the most bytes waiting in the socket before `send` throws
   * BACKPRESSURE, and the most bytes queued while connecting before frames
   * are dropped (default 16 MiB).
   */
  maxBufferedBytes?: number
  /** Per peer: the most frames queued while connecting (default 4096). */
  maxQueuedFrames?: number
  /** Redial backoff: capped exponential with jitter (default 100 ms to 10 s). */
  reconnect?: { minMs: number; maxMs: number }
  /** A connection must complete the handshake within this time, dialing included (default 5 s). */
  handshakeTimeoutMs?: number
  /**
   * Inbound connections not yet authenticated (raw sockets and upgraded
   * WebSockets in the handshake), in total (default 256). When full, the
   * oldest pending connection of the address holding the most is evicted (1013)
   * to admit the new one.
   */
  maxPendingHandshakes?: number
  /** The same bound per source address (IPv6: per /64); when full, that address's oldest is evicted (default 32, at most maxPendingHandshakes). */
  maxPendingPerAddress?: number
  /**
   * An inbound socket must be upgraded and prove the secret within this time
   * of being accepted, or it is closed (default 2 s, and never more than handshakeTimeoutMs).
   */
  inboundHandshakeTimeoutMs?: number
  /** Pings open connections every intervalMs; one silent for timeoutMs is dropped (default 5 s / 30 s; null: off). */
  keepAlive?: { intervalMs: number; timeoutMs: number } | null
  clock?: Clock
  /** Uniform in [0, 1), for backoff jitter. */
  random?: () => number
  /** Secure random bytes for nonces and the incarnation id (default node:crypto randomBytes). */
  randomBytes?: (length: number) => Uint8Array
  /** Where connection events and reasons go (default: warnings and errors to stderr). */
  log?: TransportLog
  /**
   * The wire versions this node speaks (default: this build's, see
   * `WIRE_VERSION`). TEST ONLY: `experimental: 'next'` also speaks the next
   * version (a test build for rolling-upgrade tests: it adds a trailing
   * envelope field and a message kind); `minVersion` raises the oldest
   * version spoken (e.g. a node that requires the next version).
   */
  wire?: { experimental?: 'next'; minVersion?: number }
}

export interface ResolvedOptions {
  listen: { host: string; port: number } | null
  peers: Map<string, string>
  secret: Buffer
  tls: TlsOptions | null
  localAddress: string | null
  maxPayloadBytes: number
  maxBufferedBytes: number
  maxQueuedFrames: number
  reconnect: { minMs: number; maxMs: number }
  handshakeTimeoutMs: number
  maxPendingHandshakes: number
  maxPendingPerAddress: number
  inboundHandshakeTimeoutMs: number
  keepAlive: { intervalMs: number; timeoutMs: number } | null
  clock: Clock
  random: () => number
  randomBytes: (length: number) => Uint8Array
  log: TransportLog
  versions: VersionRange
}

const MIB = 1024 * 1024
const MIN_SECRET_BYTES = 16

export function resolveOptions(o: WebSocketTransportOptions): ResolvedOptions {
  const secret = typeof o.secret === 'string' ? Buffer.from(o.secret) : Buffer.from(o.secret ?? [])
  if (secret.length < MIN_SECRET_BYTES) invalid(`secret must be at least ${MIN_SECRET_BYTES} bytes`)
  const r: ResolvedOptions = {
    listen: o.listen,
    peers: new Map(),
    secret,
    tls: o.tls ?? null,
    localAddress: o.localAddress ?? null,
    maxPayloadBytes: positive(o.maxPayloadBytes ?? 16 * MIB, 'maxPayloadBytes'),
    maxBufferedBytes: positive(o.maxBufferedBytes ?? 16 * MIB, 'maxBufferedBytes'),
    maxQueuedFrames: positive(o.maxQueuedFrames ?? 4096, 'maxQueuedFrames'),
    reconnect: o.reconnect ?? { minMs: 100, maxMs: 10_000 },
    handshakeTimeoutMs: positive(o.handshakeTimeoutMs ?? 5000, 'handshakeTimeoutMs'),
    maxPendingHandshakes: positive(o.maxPendingHandshakes ?? 256, 'maxPendingHandshakes'),
    maxPendingPerAddress: 0,
    inboundHandshakeTimeoutMs: 0,
    keepAlive: o.keepAlive === undefined ? { intervalMs: 5000, timeoutMs: 30_000 } : o.keepAlive,
    clock: o.clock ?? realClock,
    random: o.random ?? Math.random,
    randomBytes: o.randomBytes ?? randomBytes,
    log: o.log ?? consoleLog,
    versions: resolveVersions(o.wire),
  }
  r.maxPendingPerAddress = positive(o.maxPendingPerAddress ?? Math.min(32, r.maxPendingHandshakes), 'maxPendingPerAddress')
  if (r.maxPendingPerAddress > r.maxPendingHandshakes) invalid('maxPendingPerAddress must be <= maxPendingHandshakes')
  r.inboundHandshakeTimeoutMs = positive(o.inboundHandshakeTimeoutMs ?? Math.min(2000, r.handshakeTimeoutMs), 'inboundHandshakeTimeoutMs')
  positive(r.reconnect.minMs, 'reconnect.minMs')
  if (!(r.reconnect.maxMs >= r.reconnect.minMs)) invalid('reconnect.maxMs must be >= reconnect.minMs')
  if (r.keepAlive) {
    positive(r.keepAlive.intervalMs, 'keepAlive.intervalMs')
    if (!(r.keepAlive.timeoutMs > r.keepAlive.intervalMs)) invalid('keepAlive.timeoutMs must be > keepAlive.intervalMs')
  }
  for (const [name, url] of Object.entries(o.peers ?? {})) r.peers.set(name, checkUrl(name, url, r.tls !== null))
  return r
}

function resolveVersions(wire: WebSocketTransportOptions['wire']): VersionRange {
  if (wire === undefined) return DEFAULT_VERSIONS
  if (wire.experimental !== undefined && wire.experimental !== 'next') invalid(`wire.experimental must be 'next', got ${String(wire.experimental)}`)
  const max = wire.experimental === 'next' ? WIRE_VERSION_NEXT : WIRE_VERSION
  const min = wire.minVersion ?? WIRE_VERSION_MIN
  if (!Number.isInteger(min) || min < WIRE_VERSION_MIN || min > max) invalid(`wire.minVersion must be an integer in [${WIRE_VERSION_MIN}, ${max}], got ${String(min)}`)
  return Object.freeze({ min, max })
}

/** A peer URL must be ws:// or wss://, and wss:// when this node uses TLS (no silent downgrade). */
export function checkUrl(name: string, url: string, tls: boolean): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return invalid(`peer ${name}: '${url}' is not a URL`)
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') invalid(`peer ${name}: '${url}' must be ws:// or wss://`)
  if (tls && parsed.protocol !== 'wss:') invalid(`peer ${name}: '${url}' must be wss:// when tls is configured`)
  return url
}

function positive(n: number, what: string): number {
  if (!(typeof n === 'number' && n > 0 && Number.isFinite(n))) invalid(`${what} must be a positive number, got ${String(n)}`)
  return n
}

function invalid(message: string): never {
  throw new TroupeError('INVALID_ARGUMENT', message)
}
