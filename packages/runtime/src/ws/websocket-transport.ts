import { createSecretKey } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { EventEmitter } from 'eventemitter3'
import { WebSocket } from 'ws'
import type { ClientOptions } from 'ws'
import { TroupeError, invariant } from '../errors.js'
import type { Transport, TransportEvents, TransportHandler } from '../transport.js'
import type { VersionRange } from '../wire-version.js'
import { CloseCode } from './close-codes.js'
import { Connection } from './connection.js'
import type { ConnectionHost } from './connection.js'
import { NONCE_BYTES } from './handshake.js'
import type { Identity } from './handshake.js'
import { KeepAlive } from './keep-alive.js'
import { Listener } from './listener.js'
import { LogThrottle } from './log.js'
import { checkUrl, resolveOptions } from './options.js'
import type { ResolvedOptions, WebSocketTransportOptions } from './options.js'
import { Peer, PeerTable } from './peer-table.js'
import { refusalOf } from './refusals.js'
import type { Refusal } from './refusals.js'
import { chooseConnection } from './tie-break.js'
import type { Candidate } from './tie-break.js'

export interface WebSocketTransportStats {
  /** Connections past the handshake. */
  open: number
  /** Sockets accepted or dialed but not yet past the handshake (including not yet upgraded). */
  handshaking: number
  /** Peers in the table (configured, connected or with frames queued). */
  peers: number
  /** Frames waiting for a connection, over all peers. */
  queuedFrames: number
  /** Frames dropped since start: no address, or the per-peer queue was full. */
  droppedFrames: number
}

/** How long a closing socket gets to answer the close frame before it is destroyed. */
const CLOSE_GRACE_MS = 2000

/**
 * Transport over WebSocket (`ws`): one authenticated connection per node
 * pair, dialed on demand, with a bounded queue while connecting, backpressure
 * from the socket's buffered bytes and redial with capped backoff. See
 * the package README (WebSocket transport) for the protocol and the security model.
 */
export class WebSocketTransport implements Transport {
  /** Typed events about peers: `authFailed` (a handshake's proof did not match). */
  readonly events = new EventEmitter<TransportEvents>()
  private readonly o: ResolvedOptions
  private readonly key: KeyObject
  private readonly peers: PeerTable
  /** Every connection not yet closed, both directions. */
  private readonly connections = new Set<Connection>()
  private readonly host: ConnectionHost
  private readonly keepAlive: KeepAlive | null
  private state: 'new' | 'started' | 'stopped' = 'new'
  private identity: Identity | null = null
  private handler: TransportHandler | null = null
  private listener: Listener | null = null
  private bound: { host: string; port: number } | null = null
  private droppedFrames = 0
  private readonly unknownPeerLog = new LogThrottle()

  constructor(options: WebSocketTransportOptions) {
    this.o = resolveOptions(options)
    this.key = createSecretKey(this.o.secret)
    this.peers = new PeerTable((name) => new Peer(name, this.o, this.o.random))
    for (const [name, url] of this.o.peers) this.peers.ensure(name).url = url
    this.keepAlive = this.o.keepAlive ? new KeepAlive(this.o.clock, this.o.keepAlive, () => this.connections) : null
    this.host = this.makeHost()
  }

  /** The wire versions this node speaks (`wire` option). */
  get versions(): VersionRange {
    return this.o.versions
  }

  /** The wire version agreed with `node` on its open connection, or undefined while not connected. */
  peerVersion(node: string): number | undefined {
    return this.peers.get(node)?.active?.version ?? undefined
  }

  /** This start's incarnation id (random per start), or null before start. */
  get incarnation(): string | null {
    return this.identity?.incarnation ?? null
  }

  /** The address the listener is bound to (port 0 resolved), or null when not listening. */
  address(): { host: string; port: number } | null {
    return this.bound
  }

  /** The URL peers can dial this node at, or null when not listening. */
  url(): string | null {
    if (this.bound === null) return null
    const host = this.bound.host.includes(':') ? `[${this.bound.host}]` : this.bound.host
    return `${this.o.tls ? 'wss' : 'ws'}://${host}:${this.bound.port}`
  }

  on<K extends keyof TransportEvents>(event: K, fn: (...args: TransportEvents[K]) => void): this {
    this.events.on(event, fn as (...args: any[]) => void)
    return this
  }

  off<K extends keyof TransportEvents>(event: K, fn: (...args: TransportEvents[K]) => void): this {
    this.events.off(event, fn as (...args: any[]) => void)
    return this
  }

  /** Adds or changes a peer's address; an open connection is kept, the next dial uses the new URL. */
  addPeer(name: string, url: string): void {
    this.peers.ensure(name).url = checkUrl(name, url, this.o.tls !== null)
  }

  /** Forgets a peer's address and drops frames queued for it; an open connection is kept. */
  removePeer(name: string): void {
    const peer = this.peers.get(name)
    if (peer === undefined) return
    peer.url = null
    this.droppedFrames += peer.queue.drain().length
    this.clearDialTimer(peer)
    this.peers.prune(peer)
  }

  async start(self: string, handler: TransportHandler): Promise<void> {
    if (this.state !== 'new') throw new TroupeError('INVALID_ARGUMENT', 'a WebSocketTransport starts once')
    const incarnation = Buffer.from(this.o.randomBytes(8)).toString('hex')
    this.identity = { name: self, incarnation }
    this.handler = handler
    if (this.o.listen !== null) {
      this.listener = new Listener({
        ...this.o.listen,
        tls: this.o.tls,
        maxPayloadBytes: this.o.maxPayloadBytes,
        admission: { maxPending: this.o.maxPendingHandshakes, maxPendingPerAddress: this.o.maxPendingPerAddress, deadlineMs: this.o.inboundHandshakeTimeoutMs },
        clock: this.o.clock,
        log: this.o.log,
        accepted: (ws, remote) => this.accepted(ws, remote),
      })
      this.bound = await this.listener.listen()
    }
    this.state = 'started'
    this.keepAlive?.start()
    this.o.log({ level: 'info', event: 'started', node: self, reason: `incarnation ${incarnation}${this.bound ? `, listening on ${this.url()}` : ''}` })
  }

  send(node: string, frame: Uint8Array): void {
    if (this.state !== 'started') return
    if (frame.length + 1 > this.o.maxPayloadBytes) {
      throw new TroupeError('MESSAGE_TOO_LARGE', `frame of ${frame.length} bytes to ${node} exceeds maxPayloadBytes ${this.o.maxPayloadBytes}`)
    }
    const peer = this.peers.get(node)
    const conn = peer?.active
    if (conn) {
      // An empty socket always takes one frame; beyond that, memory per peer stays under the limit.
      const buffered = conn.bufferedBytes
      if (buffered > 0 && buffered + frame.length > this.o.maxBufferedBytes) {
        throw new TroupeError('BACKPRESSURE', `${buffered} bytes already buffered for ${node} (maxBufferedBytes ${this.o.maxBufferedBytes})`)
      }
      return conn.sendData(frame)
    }
    if (peer === undefined || (peer.url === null && peer.dialing === null)) {
      this.droppedFrames++
      if (this.unknownPeerLog.shouldLog()) this.o.log({ level: 'warn', event: 'frame-dropped', node, reason: `no address for node '${node}' (${this.unknownPeerLog.total} such drops)` })
      return
    }
    // The caller may reuse its buffer; a queued frame outlives this call.
    if (!peer.queue.push(Uint8Array.prototype.slice.call(frame))) {
      this.droppedFrames++
      if (peer.drops.shouldLog()) {
        this.o.log({ level: 'warn', event: 'frame-dropped', node, reason: `not connected and the queue is full (${peer.queue.length} frames, ${peer.queue.bytes} bytes; ${peer.drops.total} dropped)` })
      }
      return
    }
    this.scheduleDial(peer)
  }

  /** False while the bytes waiting for `node` are at or over `maxBufferedBytes`: senders should back off. */
  writable(node: string): boolean {
    return this.bufferedBytes(node) < this.o.maxBufferedBytes
  }

  /** Bytes waiting for `node`: in the socket when connected, else in the connect queue. */
  bufferedBytes(node: string): number {
    const peer = this.peers.get(node)
    if (peer === undefined) return 0
    return peer.active ? peer.active.bufferedBytes : peer.queue.bytes
  }

  stats(): WebSocketTransportStats {
    let open = 0
    let queuedFrames = 0
    for (const c of this.connections) if (c.state === 'open') open++
    for (const p of this.peers.values()) queuedFrames += p.queue.length
    return {
      open,
      handshaking: this.connections.size - open + (this.listener?.pendingSockets ?? 0),
      peers: this.peers.size,
      queuedFrames,
      droppedFrames: this.droppedFrames,
    }
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return
    this.state = 'stopped'
    this.keepAlive?.stop()
    for (const peer of this.peers.values()) {
      this.clearDialTimer(peer)
      peer.queue.drain()
    }
    const gone = [...this.connections].map((c) => c.whenSocketClosed)
    for (const c of [...this.connections]) c.close(CloseCode.Shutdown, 'node stopping', 'info')
    await this.listener?.close()
    await Promise.all(gone)
  }

  // ---- connections -------------------------------------------------------

  private accepted(ws: WebSocket, remote: string): Connection | null {
    if (this.state !== 'started') {
      ws.terminate()
      return null
    }
    const conn = new Connection(this.host, ws, 'inbound', remote, null)
    this.connections.add(conn)
    return conn
  }

  private scheduleDial(peer: Peer): void {
    if (this.state !== 'started' || peer.active || peer.dialing || peer.dialTimer || peer.url === null || peer.queue.length === 0) return
    const waitMs = peer.nextDialAtMs - this.o.clock.now()
    if (waitMs <= 0) return this.dial(peer, peer.url)
    peer.dialTimer = this.o.clock.setTimer(waitMs, () => {
      peer.dialTimer = null
      this.scheduleDial(peer)
    })
  }

  private dial(peer: Peer, url: string): void {
    const options: ClientOptions = { perMessageDeflate: false, maxPayload: this.o.maxPayloadBytes, followRedirects: false }
    if (this.o.tls?.ca) options.ca = this.o.tls.ca
    if (this.o.localAddress !== null) options.localAddress = this.o.localAddress
    let ws: WebSocket
    try {
      ws = new WebSocket(url, options)
    } catch (err) {
      // A URL ws refuses: count it as a failed dial and retry later.
      this.o.log({ level: 'warn', event: 'dial-failed', node: peer.name, remote: url, reason: (err as Error).message })
      peer.nextDialAtMs = this.o.clock.now() + peer.redialDelayMs()
      return this.scheduleDial(peer)
    }
    const conn = new Connection(this.host, ws, 'outbound', url, peer.name)
    this.connections.add(conn)
    peer.dialing = conn
  }

  /** Server side, after the client proved the secret: keep at most one connection per pair. */
  private admit(conn: Connection): { code: CloseCode; reason: string } | null {
    if (this.state !== 'started') return { code: CloseCode.Shutdown, reason: 'node stopping' }
    const peer = this.peers.get(conn.peer!.name)
    for (const existing of [peer?.active, peer?.dialing]) {
      if (existing && chooseConnection(this.identity!.name, conn.peer!.name, candidate(existing), candidate(conn)) === 'existing') {
        return { code: CloseCode.Duplicate, reason: `a ${existing.role === 'outbound' ? 'connection dialed by this node' : 'connection'} to '${conn.peer!.name}' wins the tie-break` }
      }
    }
    return null
  }

  private established(conn: Connection): void {
    this.listener?.settled(conn)
    const name = conn.peer!.name
    const peer = this.peers.ensure(name)
    if (peer.dialing === conn) peer.dialing = null
    const old = peer.active
    if (old !== null && conn.role === 'outbound' && chooseConnection(this.identity!.name, name, candidate(old), candidate(conn)) === 'existing') {
      return conn.close(CloseCode.Duplicate, `a connection to '${name}' already won the tie-break`, 'info')
    }
    peer.active = conn
    if (old !== null) {
      old.close(CloseCode.Replaced, `replaced by a newer connection from '${name}'`, 'info')
      if (old.peer!.incarnation !== conn.peer!.incarnation) this.handler?.disconnected?.(name)
    }
    const dialing = peer.dialing
    if (dialing !== null) {
      peer.dialing = null
      dialing.close(CloseCode.Duplicate, `superseded by the connection '${name}' dialed`, 'info')
    }
    this.clearDialTimer(peer)
    peer.connected()
    peer.nextDialAtMs = 0
    peer.drops = new LogThrottle()
    this.o.log({ level: 'info', event: 'connection-established', node: name, remote: conn.remote, reason: `${conn.role}, incarnation ${conn.peer!.incarnation}` })
    for (const frame of peer.queue.drain()) conn.sendData(frame)
  }

  private closed(conn: Connection): void {
    this.connections.delete(conn)
    this.listener?.settled(conn)
    const refusal = refusalOf(conn, this.o.versions)
    if (refusal !== null) this.report(refusal)
    const name = conn.peer?.name ?? conn.expected
    const peer = name === null ? undefined : this.peers.get(name)
    if (peer === undefined) return
    if (peer.dialing === conn) {
      peer.dialing = null
      if (peer.active === null) {
        // Frames wait for one connection attempt, not for the peer to come back: a
        // failed dial drops them (the layers above time out). Losing the tie-break
        // is not a failure: the peer's own connection is on its way.
        if (conn.closeCode !== CloseCode.Duplicate) this.dropQueue(peer, `dial failed (${conn.closeReason})`)
        peer.nextDialAtMs = this.o.clock.now() + peer.redialDelayMs()
        this.scheduleDial(peer)
      }
    } else if (peer.active === conn) {
      peer.active = null
      if (this.state === 'started') this.handler?.disconnected?.(peer.name)
    }
    this.peers.prune(peer)
  }

  private data(conn: Connection, body: Uint8Array): void {
    invariant(conn.peer !== null, 'data on a connection without a peer')
    try {
      this.handler?.receive(conn.peer.name, body)
    } catch (err) {
      // The handler must not throw; if it does, the connection is not to blame.
      this.o.log({ level: 'error', event: 'handler-threw', node: conn.peer.name, reason: (err as Error).message })
    }
  }

  /** A handshake refused by either side (wrong secret, no common version): tell the listeners (after the log line). */
  private report(refusal: Refusal): void {
    try {
      ;(this.events.emit as (e: string, ...a: unknown[]) => boolean)(refusal.event, ...refusal.args)
    } catch (err) {
      this.o.log({ level: 'error', event: 'listener-threw', node: refusal.args[0].peer, reason: (err as Error).message })
    }
  }

  private dropQueue(peer: Peer, why: string): void {
    const frames = peer.queue.length
    if (frames === 0) return
    peer.queue.drain()
    this.droppedFrames += frames
    this.o.log({ level: 'info', event: 'frame-dropped', node: peer.name, reason: `${frames} queued frame(s) dropped: ${why}` })
  }

  private clearDialTimer(peer: Peer): void {
    if (peer.dialTimer !== null) this.o.clock.clearTimer(peer.dialTimer)
    peer.dialTimer = null
  }

  private makeHost(): ConnectionHost {
    const t = this
    return {
      get self() {
        return t.identity!
      },
      versions: this.o.versions,
      key: this.key,
      clock: this.o.clock,
      log: this.o.log,
      maxPayloadBytes: this.o.maxPayloadBytes,
      handshakeTimeoutMs: this.o.handshakeTimeoutMs,
      closeGraceMs: CLOSE_GRACE_MS,
      nonce: () => this.o.randomBytes(NONCE_BYTES),
      admit: (conn) => this.admit(conn),
      established: (conn) => this.established(conn),
      data: (conn, body) => this.data(conn, body),
      closed: (conn) => this.closed(conn),
    }
  }
}

function candidate(c: Connection): Candidate {
  return { role: c.role, incarnation: c.peer?.incarnation ?? null }
}
