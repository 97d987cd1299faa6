// The node's one HTTP listener. /live and /ready are the only anonymous
// routes by default; a route mounted with access 'operator' needs
// `Authorization: Bearer <token>` of an operator token (role 'read' for
// GET/HEAD, 'admin' for the rest unless the route says otherwise); access
// 'node' routes authenticate callers themselves (e.g. the bootstrap probe,
// with an HMAC of the cluster secret). Tokens are never read from URLs.
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { NodeError } from './node-error.js'
import type { OperatorToken } from './node-config.js'

export type RouteAccess = 'anonymous' | 'operator' | 'node'
export type OperatorRole = 'read' | 'admin'

export interface RouteOptions {
  access: RouteAccess
  /** The role an operator route needs (default: 'read' for GET and HEAD, 'admin' otherwise). */
  role?: OperatorRole
}

/** What a handler learns about the caller: the operator role it proved (null on anonymous and node routes). */
export interface RouteContext {
  role: OperatorRole | null
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, ctx: RouteContext) => void | Promise<void>

interface Route {
  handler: RouteHandler
  access: RouteAccess
  role: OperatorRole
}

export interface NodeHttpOptions {
  host: string
  port: number
  operatorTokens: OperatorToken[]
  log: (level: 'warn' | 'error', message: string) => void
}

export class NodeHttp {
  private readonly routes = new Map<string, Route>()
  private readonly server: Server
  private readonly tokens: Array<{ digest: Buffer; role: OperatorRole }>
  private bound: { host: string; port: number } | null = null

  constructor(private readonly options: NodeHttpOptions) {
    this.tokens = options.operatorTokens.map((t) => ({ digest: digest(t.token), role: t.role }))
    this.server = createServer((req, res) => void this.handle(req, res))
  }

  /** Mounts `handler` at `method path` (exact path, query ignored). Throws ROUTE_TAKEN if one is there. */
  route(method: string, path: string, handler: RouteHandler, options: RouteOptions): void {
    const key = `${method.toUpperCase()} ${path}`
    if (this.routes.has(key)) throw new NodeError('ROUTE_TAKEN', `an HTTP route is already mounted at ${key}`)
    if (!path.startsWith('/')) throw new NodeError('ROUTE_TAKEN', `route path must start with '/', got ${path}`)
    const role = options.role ?? (method.toUpperCase() === 'GET' || method.toUpperCase() === 'HEAD' ? 'read' : 'admin')
    this.routes.set(key, { handler, access: options.access, role })
  }

  /** Binds the listener; rejects with ADDRESS_IN_USE when the port is taken. */
  listen(): Promise<{ host: string; port: number }> {
    const { host, port } = this.options
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        this.server.off('listening', onListening)
        reject(err.code === 'EADDRINUSE' ? new NodeError('ADDRESS_IN_USE', `HTTP listener: ${host}:${port} is already in use by another process`, { cause: err, subject: `${host}:${port}` }) : err)
      }
      const onListening = (): void => {
        this.server.off('error', onError)
        const a = this.server.address()
        this.bound = typeof a === 'object' && a !== null ? { host, port: a.port } : { host, port }
        resolve(this.bound)
      }
      this.server.once('error', onError)
      this.server.once('listening', onListening)
      this.server.listen(port, host)
    })
  }

  /** `http://host:port` once listening (null before). */
  get url(): string | null {
    if (!this.bound) return null
    const h = this.bound.host.includes(':') ? `[${this.bound.host}]` : this.bound.host
    return `http://${h}:${this.bound.port}`
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve()
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!
    const route = this.routes.get(`${req.method} ${path}`) ?? (req.method === 'HEAD' ? this.routes.get(`GET ${path}`) : undefined)
    if (!route) return sendJson(res, 404, { error: 'NOT_FOUND' })
    let role: OperatorRole | null = null
    if (route.access === 'operator') {
      role = this.authenticate(req.headers.authorization)
      if (role === null) {
        res.setHeader('www-authenticate', 'Bearer')
        return sendJson(res, 401, { error: 'UNAUTHORIZED', message: 'this route needs an operator token: Authorization: Bearer <token>' })
      }
      if (route.role === 'admin' && role !== 'admin') return sendJson(res, 403, { error: 'FORBIDDEN', message: 'this route needs an admin token' })
    }
    try {
      await route.handler(req, res, { role })
    } catch (err) {
      this.options.log('error', `HTTP ${req.method} ${path} failed: ${String((err as Error)?.message ?? err)}`)
      if (!res.headersSent) sendJson(res, 500, { error: 'INTERNAL' })
      else res.destroy()
    }
  }

  /** The role of a valid bearer token, compared in constant time; null otherwise. */
  private authenticate(header: string | undefined): OperatorRole | null {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
    if (!m) return null
    const given = digest(m[1]!)
    let role: OperatorRole | null = null
    for (const t of this.tokens) if (timingSafeEqual(t.digest, given) && role !== 'admin') role = t.role
    return role
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest()
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
