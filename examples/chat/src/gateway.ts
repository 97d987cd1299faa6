// The browser's side of a node: an HTTP server (node:http) for the page and
// a WebSocket endpoint (/ws, `ws` package) where each connection becomes a
// session actor. Frames are size-limited, rate-limited per connection and
// parsed here; a bad frame is answered with an error to that page only.
// The port is bound before the node starts (the node publishes the address
// in its member record); until `attach` the gateway answers 503.
//
// Admission: at most MAX_SESSIONS_PER_ADDRESS connections per client
// address, and a connection must sign in within HELLO_TIMEOUT_MS. Those that
// have not signed in yet are capped per address (MAX_PENDING_PER_ADDRESS)
// and per node (MAX_PENDING_PER_NODE, the oldest is closed to make room), so
// sockets that never say hello cannot keep a real page out.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocket, WebSocketServer } from 'ws'
import type { RawData } from 'ws'
import type { ActorRef, ActorSystem, TimerHandle } from '@troupe/runtime'
import type { NodeDirectory } from './directory.js'
import {
  FRAME_BURST,
  FRAMES_PER_SECOND,
  HELLO_TIMEOUT_MS,
  MAX_BUFFERED_BYTES,
  MAX_FRAME_BYTES,
  MAX_PENDING_PER_ADDRESS,
  MAX_PENDING_PER_NODE,
  MAX_REJECTED_FRAMES,
  MAX_SESSIONS_PER_ADDRESS,
  MAX_SESSIONS_PER_NODE,
} from './limits.js'
import { ChatErrorCode } from './protocol.js'
import type { NodeInfo, ServerFrame } from './protocol.js'
import type { BrowserLink, SessionDef, SessionProtocol } from './session.js'
import { TokenBucket } from './token-bucket.js'
import { parseClientFrame } from './validate.js'
import { addressKey } from '@troupe/runtime'

const PUBLIC = new URL('./public/', import.meta.url)
/** How long pages get to answer the close handshake when the node stops. */
const CLOSE_GRACE_MS = 1000
/** Close codes a page can tell apart (the reason says the same in words). */
const CLOSE_POLICY = 1008
const CLOSE_TRY_LATER = 1013
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
}
// The page loads nothing but its own files and talks only to chat nodes.
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
}

export interface GatewayOptions {
  host: string
  port: number
}

/** What the gateway serves with, given once the node has started (`attach`). */
export interface GatewayServices {
  system: ActorSystem
  session: SessionDef
  /** Where pages can reconnect: this node first, then the other up members. */
  directory: NodeDirectory
  /** Extra facts for GET /healthz. */
  health: () => Record<string, unknown>
}

export class Gateway {
  private readonly server: Server
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false, clientTracking: false })
  private readonly files = new Map<string, Buffer>()
  private readonly links = new Map<WebSocket, { link: BrowserLink; ref: ActorRef<SessionProtocol> }>()
  /** Connections per client address key, signed in or not. */
  private readonly perAddress = new Map<string, number>()
  /** Connections that have not signed in yet, oldest first, with their deadline. */
  private readonly pending = new Map<WebSocket, { addr: string; deadline: TimerHandle }>()
  private keyPrefix = ''
  private nextSession = 1
  /** Null until the node has started: until then pages get 503 and sockets are refused. */
  private o: GatewayServices | null = null

  constructor(private readonly listenOn: GatewayOptions) {
    for (const { file } of Object.values(STATIC)) this.files.set(file, readFileSync(new URL(file, PUBLIC)))
    this.server = createServer((req, res) => this.http(req, res))
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head))
  }

  /**
   * Starts serving. The port is bound first (`listen`) so the node can
   * publish its page address in its member record; the node's services come
   * here once it has started.
   */
  attach(services: GatewayServices): void {
    this.o = services
    this.keyPrefix = `${services.system.name}.${Math.floor(services.system.random() * 2 ** 32).toString(36)}`
    services.directory.onChange((nodes) => this.broadcast({ t: 'nodes', nodes }))
  }

  private nodes(): NodeInfo[] {
    return this.o?.directory.nodes() ?? []
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.listenOn.port, this.listenOn.host, () => resolve(this.server.address() as AddressInfo))
    })
  }

  get sessions(): number {
    return this.links.size
  }

  /** Closes every browser connection (1001: pages reconnect elsewhere) and the server. */
  async close(): Promise<void> {
    for (const ws of this.links.keys()) ws.close(1001, 'node stopping')
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    if (this.o === null) {
      this.server.closeAllConnections()
      return closed
    }
    // A page that does not answer the close handshake does not hold the node up.
    const { clock } = this.o.system
    const timer = clock.setTimer(CLOSE_GRACE_MS, () => {
      for (const ws of this.links.keys()) ws.terminate()
      this.server.closeAllConnections()
    })
    await closed
    clock.clearTimer(timer)
  }

  private http(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.reply(res, 405, 'text/plain', 'method not allowed')
    const o = this.o
    if (o === null) return this.reply(res, 503, 'text/plain', 'node starting')
    const file = STATIC[path]
    if (file !== undefined) return this.reply(res, 200, file.type, this.files.get(file.file)!)
    if (path === '/api/nodes') return this.json(res, { self: o.system.name, nodes: this.nodes() })
    if (path === '/healthz') return this.json(res, { node: o.system.name, sessions: this.links.size, pending: this.pending.size, ...o.health() })
    this.reply(res, 404, 'text/plain', 'not found')
  }

  private json(res: ServerResponse, body: unknown): void {
    this.reply(res, 200, 'application/json', JSON.stringify(body))
  }

  private reply(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...SECURITY_HEADERS })
    res.end(body)
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {})
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/ws' || this.o === null) return void socket.destroy()
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, addressKey(req.socket.remoteAddress)))
  }

  /** Whether one more connection from `addr` may come in; closes it (or the oldest unsigned one) if not. */
  private admit(ws: WebSocket, addr: string): boolean {
    if ((this.perAddress.get(addr) ?? 0) >= MAX_SESSIONS_PER_ADDRESS) {
      ws.close(CLOSE_POLICY, `at most ${MAX_SESSIONS_PER_ADDRESS} connections per address`)
      return false
    }
    let pendingHere = 0
    for (const p of this.pending.values()) if (p.addr === addr) pendingHere++
    if (pendingHere >= MAX_PENDING_PER_ADDRESS) {
      ws.close(CLOSE_POLICY, `at most ${MAX_PENDING_PER_ADDRESS} connections per address before signing in`)
      return false
    }
    // A full node (or a full waiting room) makes space by closing the
    // connection that has waited longest without signing in, so the newest
    // caller gets its few seconds; only signed-in pages fill a node for good.
    if (this.links.size >= MAX_SESSIONS_PER_NODE || this.pending.size >= MAX_PENDING_PER_NODE) {
      const oldest = this.pending.keys().next()
      if (oldest.done) {
        ws.close(CLOSE_TRY_LATER, 'node full, try another')
        return false
      }
      this.settle(oldest.value)
      oldest.value.close(CLOSE_TRY_LATER, 'node busy: sign in sooner')
    }
    return true
  }

  /** The connection signed in or closed: it no longer waits. */
  private settle(ws: WebSocket): void {
    const p = this.pending.get(ws)
    if (p === undefined) return
    this.o!.system.clock.clearTimer(p.deadline)
    this.pending.delete(ws)
  }

  private accept(ws: WebSocket, addr: string): void {
    ws.on('error', () => {}) // a broken socket also emits close
    if (!this.admit(ws, addr)) return
    const o = this.o!
    const { system } = o
    this.perAddress.set(addr, (this.perAddress.get(addr) ?? 0) + 1)
    const deadline = system.clock.setTimer(HELLO_TIMEOUT_MS, () => {
      this.settle(ws)
      ws.close(CLOSE_POLICY, `sign in within ${HELLO_TIMEOUT_MS / 1000} s`)
    })
    this.pending.set(ws, { addr, deadline })
    const n = this.nextSession++
    const link: BrowserLink = {
      send(frame: ServerFrame) {
        if (ws.readyState !== WebSocket.OPEN) return
        // A page that does not read its socket would make us buffer without bound.
        if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return ws.close(1013, 'too slow')
        ws.send(JSON.stringify(frame))
      },
      close: (code, reason) => ws.close(code, reason),
      signedIn: () => this.settle(ws),
    }
    const ref = system.spawn(o.session, { name: `session-${n}` })
    ref.tell('attach', { key: `${this.keyPrefix}.${n}`, addr, link })
    this.links.set(ws, { link, ref })
    link.send({ t: 'node', node: system.name, nodes: this.nodes() })

    const frames = new TokenBucket(FRAME_BURST, FRAMES_PER_SECOND, system.clock.now())
    let rejected = 0
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!frames.take(system.clock.now())) {
        if (++rejected > MAX_REJECTED_FRAMES) return ws.close(1008, 'too many frames')
        return link.send({ t: 'error', code: ChatErrorCode.RateLimited, message: `Too many requests: at most ${FRAMES_PER_SECOND} per second.` })
      }
      if (isBinary) return link.send({ t: 'error', code: ChatErrorCode.BadRequest, message: 'frames are JSON text' })
      const parsed = parseClientFrame(rawText(data))
      if (!parsed.ok) {
        const { ok: _, ...error } = parsed
        return link.send({ t: 'error', ...error })
      }
      try {
        ref.tell('frame', parsed.value)
      } catch {
        link.send({ t: 'error', code: ChatErrorCode.ServerBusy, message: 'This node is busy: the request was dropped.' })
      }
    })
    ws.on('close', () => {
      this.settle(ws)
      const left = (this.perAddress.get(addr) ?? 1) - 1
      if (left > 0) this.perAddress.set(addr, left)
      else this.perAddress.delete(addr)
      this.links.delete(ws)
      system.stop(ref).catch(() => {}) // already stopped with the system
    })
  }

  private broadcast(frame: ServerFrame): void {
    for (const { link } of this.links.values()) link.send(frame)
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  return (Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8')
}
