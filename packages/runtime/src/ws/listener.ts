import { createServer } from 'node:http'
import type { IncomingMessage, Server } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'
import type { Clock, TimerHandle } from '../clock.js'
import { Admission } from './admission.js'
import type { AdmissionLimits } from './admission.js'
import { CloseCode } from './close-codes.js'
import { LogThrottle } from './log.js'
import type { TransportLog } from './log.js'
import type { TlsOptions } from './options.js'
import { addressKey } from '../address-key.js'
import { TroupeError } from '../errors.js'

/** An upgraded connection still in the handshake, as the listener sees it. */
export interface PendingConnection {
  close(code: CloseCode, reason: string, level: 'debug' | 'info' | 'warn'): void
}

export interface ListenerOptions {
  host: string
  port: number
  tls: TlsOptions | null
  maxPayloadBytes: number
  /** Bounds on connections not yet authenticated, from accept (after TLS) to a verified proof. */
  admission: AdmissionLimits
  clock: Clock
  log: TransportLog
  /** A new WebSocket: the transport owns it now, and calls `settled` once it is authenticated or closed. */
  accepted(ws: WebSocket, remote: string): PendingConnection | null
}

/** One inbound connection through both pre-authentication phases. */
interface Pending {
  readonly socket: Socket
  readonly remote: string
  /** Set once upgraded. */
  conn: PendingConnection | null
}

/**
 * The accepting side: an HTTP(S) server whose only job is the WebSocket
 * upgrade. It bounds strangers before they prove the secret (see
 * Admission): raw sockets and upgraded-but-unauthenticated WebSockets hold
 * one place each, per source address and in total; a full bound evicts the
 * oldest pending connection rather than refusing the new one; one deadline
 * from accept covers the upgrade and the handshake.
 */
export class Listener {
  private readonly server: Server
  private readonly wss: WebSocketServer
  private readonly admission: Admission<Pending>
  /** Upgraded connections still pending, to find their place when the transport settles them. */
  private readonly upgraded = new Map<PendingConnection, Pending>()
  /** Raw sockets' records, until upgraded. */
  private readonly raw = new WeakMap<Socket, Pending>()
  private timer: TimerHandle | null = null
  private closed = false
  private readonly evictedLog = new LogThrottle()
  private readonly expiredLog = new LogThrottle()

  constructor(private readonly options: ListenerOptions) {
    const tls = options.tls
    this.admission = new Admission(options.admission, options.clock)
    this.server = tls
      ? createTlsServer({ key: tls.key, cert: tls.cert, ...(tls.ca ? { ca: tls.ca } : {}), handshakeTimeout: options.admission.deadlineMs })
      : createServer()
    this.wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: options.maxPayloadBytes })
    this.server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => this.onSocket(socket))
    this.server.on('request', (_req, res) => {
      res.writeHead(426, { Connection: 'close', 'Content-Type': 'text/plain' })
      res.end('WebSocket upgrade required\n')
    })
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.onUpgrade(req, socket, head))
    this.server.on('tlsClientError', (err: Error, socket: Socket) => {
      options.log({ level: 'info', event: 'tls-error', remote: remoteOf(socket), reason: err.message })
      socket.destroy()
    })
  }

  /** Binds the port; rejects with ADDRESS_IN_USE when another socket holds it (INVALID_ARGUMENT for a host or port this process may not bind). */
  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const failed = (err: Error) => reject(listenError(err, this.options.host, this.options.port))
      this.server.once('error', failed)
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', failed)
        this.server.on('error', (err) => this.options.log({ level: 'error', event: 'listener-error', reason: err.message }))
        const addr = this.server.address() as AddressInfo
        resolve({ host: addr.address, port: addr.port })
      })
    })
  }

  /** Sockets accepted but not yet upgraded. */
  get pendingSockets(): number {
    return this.admission.size - this.upgraded.size
  }

  /** The transport's pending connection was authenticated or closed: its place is free. */
  settled(conn: PendingConnection): void {
    const p = this.upgraded.get(conn)
    if (p === undefined) return
    this.upgraded.delete(conn)
    this.admission.release(p)
  }

  /** Stops accepting and destroys sockets not yet upgraded; upgraded ones belong to the transport. */
  close(): Promise<void> {
    this.closed = true
    if (this.timer !== null) this.options.clock.clearTimer(this.timer)
    this.timer = null
    for (const p of this.admission.clear()) if (p.conn === null) p.socket.destroy()
    this.upgraded.clear()
    this.wss.close()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  private onSocket(socket: Socket): void {
    if (this.closed) return void socket.destroy()
    const p: Pending = { socket, remote: remoteOf(socket), conn: null }
    this.raw.set(socket, p)
    socket.once('close', () => {
      if (p.conn === null) this.admission.release(p)
    })
    for (const old of this.admission.admit(p, addressKey(socket.remoteAddress))) this.evict(old)
    this.arm()
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const p = this.raw.get(socket)
    if (p === undefined || !this.admission.has(p)) return void socket.destroy()
    this.raw.delete(socket)
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (!this.admission.has(p)) return void ws.terminate()
      const conn = this.options.accepted(ws, p.remote)
      if (conn === null) return void this.admission.release(p)
      p.conn = conn
      this.upgraded.set(conn, p)
    })
  }

  private evict(p: Pending): void {
    const why = `evicted to admit a newer connection (more than ${this.options.admission.maxPendingPerAddress} pending from its address or ${this.options.admission.maxPending} in all)`
    if (this.evictedLog.shouldLog()) {
      this.options.log({ level: 'warn', event: 'connection-evicted', remote: p.remote, reason: `${why}; ${this.evictedLog.total} evicted so far` })
    }
    this.drop(p, CloseCode.TryAgainLater, why)
  }

  private drop(p: Pending, code: CloseCode, reason: string): void {
    if (p.conn === null) return void p.socket.destroy()
    this.upgraded.delete(p.conn)
    p.conn.close(code, reason, 'debug')
  }

  /** One timer for all pending connections, due at the oldest one's deadline. */
  private arm(): void {
    if (this.timer !== null || this.closed) return
    const next = this.admission.nextDeadlineMs()
    if (next === null) return
    const clock = this.options.clock
    this.timer = clock.setTimer(Math.max(0, next - clock.now()), () => {
      this.timer = null
      const deadlineMs = this.options.admission.deadlineMs
      for (const p of this.admission.expire()) {
        if (this.expiredLog.shouldLog()) {
          this.options.log({ level: 'info', event: 'connection-closed', remote: p.remote, reason: `not authenticated within ${deadlineMs} ms of accept (${this.expiredLog.total} so far)` })
        }
        this.drop(p, CloseCode.HandshakeTimeout, `no handshake within ${deadlineMs} ms`)
      }
      this.arm()
    })
  }
}

/** What a failed bind means, in the runtime's codes (the OS error stays the cause). */
export function listenError(err: Error, host: string, port: number): Error {
  const at = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
  switch ((err as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return new TroupeError('ADDRESS_IN_USE', `${at} is in use: another process (or another transport in this one) listens there; stop it or choose another port (0 picks a free one)`, { cause: err })
    case 'EACCES':
      return new TroupeError('INVALID_ARGUMENT', `not permitted to listen on ${at} (ports below 1024 need privileges)`, { cause: err })
    case 'EADDRNOTAVAIL':
      return new TroupeError('INVALID_ARGUMENT', `cannot listen on ${at}: ${host} is not an address of this machine`, { cause: err })
    default:
      return err
  }
}

function remoteOf(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`
}
