// The HTTP JSON API and the dashboard, on node:http. Every route is a thin
// call into the node's Raft groups and saga coordinator; bad input gets a
// 400 with a code and a message, operating failures a 503 the client may
// retry (POST /orders is idempotent on the order id).
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { MAX_ORDER_QTY, PRODUCTS, WAREHOUSES, isWarehouse, productOf } from './catalog.js'
import { isPaymentMode } from './payment-ledger.js'
import type { InventoryNode } from './inventory-node.js'

const MAX_BODY_BYTES = 16 * 1024
const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url))
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
}
const ORDER_ID = /^[A-Za-z0-9_.:-]{1,100}$/

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export class HttpApi {
  private readonly server: Server

  constructor(private readonly node: InventoryNode) {
    this.server = createServer((req, res) => void this.handle(req, res))
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
      const url = new URL(req.url ?? '/', 'http://x')
      const body = await this.route(req.method ?? 'GET', url.pathname, req, res)
      if (body !== undefined) send(res, 200, body)
    } catch (err) {
      if (err instanceof HttpError) return send(res, err.status, { error: err.code, message: err.message })
      const code = String((err as { code?: unknown })?.code ?? 'INTERNAL')
      send(res, 503, { error: code, message: String((err as Error)?.message ?? err) })
    }
  }

  private async route(method: string, path: string, req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    const n = this.node
    const asset = STATIC[path]
    if (method === 'GET' && asset) {
      res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
      res.end(await readFile(`${PUBLIC_DIR}${asset.file}`))
      return undefined
    }
    if (method === 'GET' && path === '/healthz') return n.health()
    if (method === 'GET' && path === '/products') return { products: PRODUCTS, warehouses: WAREHOUSES }
    if (method === 'GET' && path === '/stock') return { node: n.name, warehouses: await n.stockView() }
    if (method === 'GET' && path === '/orders') return { node: n.name, orders: await n.recentOrders() }
    if (method === 'POST' && path === '/orders') return this.placeOrder(await readJson(req))
    if (method === 'GET' && path.startsWith('/orders/')) {
      const id = decodeURIComponent(path.slice('/orders/'.length))
      if (!ORDER_ID.test(id)) throw new HttpError(400, 'INVALID_ID', 'order ids are 1-100 letters, digits, _ . : -')
      const order = await n.order(id)
      if (order === null) throw new HttpError(404, 'NOT_FOUND', `no order ${id}`)
      return order
    }
    if (method === 'GET' && path === '/payment/mode') return { mode: await n.paymentMode() }
    if (method === 'POST' && path === '/payment/mode') {
      const mode = ((await readJson(req)) as { mode?: unknown })?.mode
      if (!isPaymentMode(mode)) throw new HttpError(400, 'INVALID_MODE', "mode is one of 'ok', 'fail', 'timeout', 'slow'")
      await n.setPaymentMode(mode)
      return { mode }
    }
    if (method === 'GET' && path === '/restock') return await n.restockStatus()
    if (method === 'GET' && path === '/audit') return await n.audit()
    throw new HttpError(404, 'NOT_FOUND', `no route ${method} ${path}`)
  }

  private async placeOrder(body: unknown): Promise<unknown> {
    const b = (body ?? {}) as { sku?: unknown; qty?: unknown; warehouse?: unknown; id?: unknown }
    const product = typeof b.sku === 'string' ? productOf(b.sku) : undefined
    if (product === undefined) throw new HttpError(400, 'UNKNOWN_SKU', `sku is one of ${PRODUCTS.map((p) => p.sku).join(', ')}`)
    const qty = b.qty
    if (!(typeof qty === 'number' && Number.isInteger(qty) && qty >= 1 && qty <= MAX_ORDER_QTY)) throw new HttpError(400, 'INVALID_QTY', `qty is an integer in 1..${MAX_ORDER_QTY}`)
    if (!isWarehouse(b.warehouse)) throw new HttpError(400, 'UNKNOWN_WAREHOUSE', `warehouse is one of ${WAREHOUSES.join(', ')}`)
    if (b.id !== undefined && !(typeof b.id === 'string' && ORDER_ID.test(b.id))) throw new HttpError(400, 'INVALID_ID', 'id is 1-100 letters, digits, _ . : -')
    try {
      return await this.node.placeOrder({ sku: product.sku, qty, warehouse: b.warehouse, amountCents: product.priceCents * qty }, b.id as string | undefined)
    } catch (err) {
      if ((err as { code?: unknown })?.code === 'SAGA_ID_CONFLICT') throw new HttpError(409, 'ID_CONFLICT', (err as Error).message)
      throw err
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end()
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'TOO_LARGE', `bodies are at most ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null')
  } catch {
    throw new HttpError(400, 'INVALID_JSON', 'the body is not JSON')
  }
}
