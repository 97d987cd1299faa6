// The HTTP JSON API and the dashboard, on node:http. Every route is a thin
// call into the node's Raft groups and saga coordinator; bad input gets a
// 4xx with a code and a message (decoded in api-input.ts), operating
// failures a 503 the client may retry (POST /orders is idempotent on the
// order id).
//
// In front of the routes: a cap on open connections per client address and
// in total, tight header and request deadlines, a request rate per address
// (429 with Retry-After), JSON bodies only (415 otherwise, which also keeps
// cross-site form posts out) of at most MAX_BODY_BYTES (413, judged from
// Content-Length before reading when it is given), and the same security
// headers as the chat gateway on every answer.
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { PRODUCTS, WAREHOUSES, productOf } from './catalog.js'
import { decodeJson, decodeMode, decodeOrder, decodeOrderId } from './api-input.js'
import type { Decoded, OrderRequest } from './api-input.js'
import type { InventoryNode } from './inventory-node.js'
import { AddressRateLimiter } from './rate-limit.js'
import { addressKey } from '@troupe/runtime'

/** Largest request body, in bytes (an order is under 200). */
export const MAX_BODY_BYTES = 4 * 1024
/** Requests per client address: a burst, then this many per second. */
export const REQUEST_BURST = 100
export const REQUESTS_PER_SECOND = 50
/** Addresses the rate limiter tracks; the least recently seen are forgotten first. */
const MAX_LIMITED_ADDRESSES = 10_000
/** Open TCP connections per client address, and in total. */
export const MAX_CONNECTIONS_PER_ADDRESS = 32
export const MAX_CONNECTIONS = 2000
/** A client has this long to send its request headers, and this long for the whole request. */
const HEADERS_TIMEOUT_MS = 10_000
const REQUEST_TIMEOUT_MS = 15_000
const MAX_HEADERS = 64
// The dashboard loads nothing but its own files and talks only to its node.
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
}
/** Methods per path (for 405 rather than 404 when only the method is wrong). */
const ROUTES: Record<string, string[]> = {
  '/healthz': ['GET'],
  '/products': ['GET'],
  '/stock': ['GET'],
  '/orders': ['GET', 'POST'],
  '/payment/mode': ['GET', 'POST'],
  '/restock': ['GET'],
  '/audit': ['GET'],
}
const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url))
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
}
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export interface HttpApiOptions {
  /** Milliseconds now; default the node's actor system clock. */
  now?: () => number
}

export class HttpApi {
  private readonly server: Server
  private readonly limiter = new AddressRateLimiter(REQUEST_BURST, REQUESTS_PER_SECOND, MAX_LIMITED_ADDRESSES)
  private readonly connections = new Map<string, number>()
  private readonly now: () => number

  constructor(
    private readonly node: InventoryNode,
    options: HttpApiOptions = {},
  ) {
    this.now = options.now ?? (() => node.system.clock.now())
    this.server = createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS }, (req, res) => void this.handle(req, res))
    this.server.maxHeadersCount = MAX_HEADERS
    this.server.maxConnections = MAX_CONNECTIONS
    this.server.on('connection', (socket: Socket) => this.admit(socket))
  }

  /** Counts the connection against its address; one past the cap is closed at once. */
  private admit(socket: Socket): void {
    const addr = addressKey(socket.remoteAddress)
    const open = this.connections.get(addr) ?? 0
    if (open >= MAX_CONNECTIONS_PER_ADDRESS) return void socket.destroy()
    this.connections.set(addr, open + 1)
    socket.once('close', () => {
      const left = (this.connections.get(addr) ?? 1) - 1
      if (left > 0) this.connections.set(addr, left)
      else this.connections.delete(addr)
    })
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, host, () => resolve(this.server.address() as AddressInfo))
    })
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const waitMs = this.limiter.take(addressKey(req.socket.remoteAddress), this.now())
      if (waitMs > 0) {
        res.setHeader('retry-after', String(Math.ceil(waitMs / 1000)))
        throw new HttpError(429, 'RATE_LIMITED', `at most ${REQUESTS_PER_SECOND} requests per second per address`)
      }
      const url = new URL(req.url ?? '/', 'http://x')
      const body = await this.route(req.method ?? 'GET', url.pathname, req, res)
      if (body !== undefined) send(res, 200, body)
    } catch (err) {
      if (err instanceof HttpError) {
        // A refused body may still be arriving: answer, then close rather than read it.
        if (!req.complete) res.setHeader('connection', 'close')
        return send(res, err.status, { error: err.code, message: err.message })
      }
      const code = String((err as { code?: unknown })?.code ?? 'INTERNAL')
      send(res, 503, { error: code, message: String((err as Error)?.message ?? err) })
    }
  }

  private async route(method: string, path: string, req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    const n = this.node
    const asset = STATIC[path]
    if (method === 'GET' && asset) {
      res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-store', ...SECURITY_HEADERS })
      res.end(await readFile(`${PUBLIC_DIR}${asset.file}`))
      return undefined
    }
    if (method === 'GET' && path === '/healthz') return n.health()
    if (method === 'GET' && path === '/products') return { products: PRODUCTS, warehouses: WAREHOUSES }
    if (method === 'GET' && path === '/stock') return { node: n.name, warehouses: await n.stockView() }
    if (method === 'GET' && path === '/orders') return { node: n.name, orders: await n.recentOrders() }
    if (method === 'POST' && path === '/orders') return this.placeOrder(decoded(decodeOrder(await readJson(req))))
    if (method === 'GET' && path.startsWith('/orders/')) {
      const id = decoded(decodeOrderId(path.slice('/orders/'.length)))
      const order = await n.order(id)
      if (order === null) throw new HttpError(404, 'NOT_FOUND', `no order ${id}`)
      return order
    }
    if (method === 'GET' && path === '/payment/mode') return { mode: await n.paymentMode() }
    if (method === 'POST' && path === '/payment/mode') {
      const mode = decoded(decodeMode(await readJson(req)))
      await n.setPaymentMode(mode)
      return { mode }
    }
    if (method === 'GET' && path === '/restock') return await n.restockStatus()
    if (method === 'GET' && path === '/audit') return await n.audit()
    const allowed = ROUTES[path] ?? (path.startsWith('/orders/') ? ['GET'] : STATIC[path] ? ['GET'] : undefined)
    if (allowed !== undefined) {
      res.setHeader('allow', allowed.join(', '))
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${path} takes ${allowed.join(', ')}`)
    }
    throw new HttpError(404, 'NOT_FOUND', `no route ${method} ${path.slice(0, 100)}`)
  }

  private async placeOrder(o: OrderRequest): Promise<unknown> {
    const product = productOf(o.sku)!
    try {
      return await this.node.placeOrder({ sku: product.sku, qty: o.qty, warehouse: o.warehouse, amountCents: product.priceCents * o.qty }, o.id)
    } catch (err) {
      if ((err as { code?: unknown })?.code === 'SAGA_ID_CONFLICT') throw new HttpError(409, 'ID_CONFLICT', (err as Error).message)
      throw err
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end()
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS })
  res.end(JSON.stringify(body))
}

function decoded<T>(d: Decoded<T>): T {
  if (!d.ok) throw new HttpError(d.status, d.code, d.message)
  return d.value
}

/** The request's JSON body: application/json, at most MAX_BODY_BYTES; an empty body is not JSON. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json') throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'bodies are application/json')
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, 'TOO_LARGE', `bodies are at most ${MAX_BODY_BYTES} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'TOO_LARGE', `bodies are at most ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') throw new HttpError(400, 'INVALID_BODY', 'the body is a JSON object')
  return decoded(decodeJson(text))
}
