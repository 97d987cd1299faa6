import { createServer } from 'node:http'
import type { IncomingMessage, Server } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'
import type { Clock, TimerHandle } from '../clock.js'
import { LogThrottle } from './log.js'
import type { TransportLog } from './log.js'
import type { TlsOptions } from './options.js'

export interface ListenerOptions {
  host: string
  port: number
  tls: TlsOptions | null
  maxPayloadBytes: number
  /** A socket must be upgraded to WebSocket within this time or it is destroyed. */
  upgradeTimeoutMs: number
  /** Sockets not yet past the handshake, counting those `pendingElsewhere` reports. */
  maxPendingHandshakes: number
  clock: Clock
  log: TransportLog
  /** Upgraded sockets still in the transport's handshake. */
  pendingElsewhere(): number
  /** A new WebSocket; the listener forgets it, the transport owns it now. */
  accepted(ws: WebSocket, remote: string): void
}

/**
 * The accepting side: an HTTP(S) server whose only job is the WebSocket
 * upgrade. It bounds strangers before the transport sees them: at most
 * `maxPendingHandshakes` sockets are handshaking at once, and a socket that
 * does not upgrade within the timeout is destroyed.
 */
export class Listener {
  private readonly server: Server
  private readonly wss: WebSocketServer
  /** Accepted sockets not yet upgraded, with their deadline timers. */
  private readonly raw = new Map<Socket, TimerHandle>()
  private readonly refusedLog = new LogThrottle()

  constructor(private readonly options: ListenerOptions) {
    const tls = options.tls
    this.server = tls
      ? createTlsServer({ key: tls.key, cert: tls.cert, ...(tls.ca ? { ca: tls.ca } : {}), handshakeTimeout: options.upgradeTimeoutMs })
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

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject)
        this.server.on('error', (err) => this.options.log({ level: 'error', event: 'listener-error', reason: err.message }))
        const addr = this.server.address() as AddressInfo
        resolve({ host: addr.address, port: addr.port })
      })
    })
  }

  /** Sockets accepted but not yet upgraded. */
  get pendingSockets(): number {
    return this.raw.size
  }

  /** Stops accepting and destroys sockets not yet upgraded; upgraded ones belong to the transport. */
  close(): Promise<void> {
    for (const [socket, timer] of this.raw) {
      this.options.clock.clearTimer(timer)
      socket.destroy()
    }
    this.raw.clear()
    this.wss.close()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  private onSocket(socket: Socket): void {
    const o = this.options
    if (this.raw.size + o.pendingElsewhere() >= o.maxPendingHandshakes) {
      if (this.refusedLog.shouldLog()) {
        o.log({ level: 'warn', event: 'connection-refused', remote: remoteOf(socket), reason: `more than ${o.maxPendingHandshakes} connections handshaking (${this.refusedLog.total} refused so far)` })
      }
      socket.destroy()
      return
    }
    const timer = o.clock.setTimer(o.upgradeTimeoutMs, () => {
      if (!this.raw.delete(socket)) return
      o.log({ level: 'info', event: 'connection-closed', remote: remoteOf(socket), reason: `no WebSocket upgrade within ${o.upgradeTimeoutMs} ms` })
      socket.destroy()
    })
    this.raw.set(socket, timer)
    socket.once('close', () => this.forget(socket))
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    if (!this.raw.has(socket)) {
      socket.destroy()
      return
    }
    this.forget(socket)
    this.wss.handleUpgrade(req, socket, head, (ws) => this.options.accepted(ws, remoteOf(socket)))
  }

  private forget(socket: Socket): void {
    const timer = this.raw.get(socket)
    if (timer === undefined) return
    this.options.clock.clearTimer(timer)
    this.raw.delete(socket)
  }
}

function remoteOf(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`
}
