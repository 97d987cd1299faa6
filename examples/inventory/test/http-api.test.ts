// The HTTP API under hostile clients, in process: the real HttpApi in front
// of a stand-in node (the routes' Raft groups and sagas are tested
// elsewhere; here only what the API lets through matters). Attackers connect
// from 127.0.0.2-127.0.0.9, the legitimate client from 127.0.0.10, so the
// per-address limits can be tested on one machine. After every attack the
// legitimate client must still be served (a liveness cap, not a timing
// claim). Floods are bounded in count.
import { request } from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { HttpApi } from '../src/http-api.js'
import type { InventoryNode } from '../src/inventory-node.js'

const LEGIT = '127.0.0.10'
const LIVENESS_MS = 15_000

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: any
}

/** A stand-in node: records the orders it is asked to place. */
function fakeNode(): InventoryNode & { placed: unknown[] } {
  const placed: unknown[] = []
  const node = {
    name: 'fake',
    system: { clock: { now: () => Date.now() } },
    placed,
    health: () => ({ node: 'fake', up: ['fake'], status: 'up' }),
    stockView: async () => ({}),
    async placeOrder(input: unknown, id?: string) {
      placed.push(input)
      return { id: id ?? `o${placed.length}`, created: true, node: 'fake' }
    },
    order: async () => null,
    recentOrders: async () => [],
    paymentMode: async () => 'ok',
    setPaymentMode: async () => {},
    restockStatus: async () => ({}),
    audit: async () => ({ stock: {}, reservations: {}, charges: {} }),
  }
  return node as unknown as InventoryNode & { placed: unknown[] }
}

let api: HttpApi
let node: InventoryNode & { placed: unknown[] }
let port = 0

function call(method: string, path: string, o: { body?: string | Buffer; headers?: Record<string, string>; from?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers }
    const req = request({ host: '127.0.0.1', port, method, path, headers, localAddress: o.from ?? LEGIT, agent: false, timeout: LIVENESS_MS }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let body: unknown = text
        try {
          body = JSON.parse(text)
        } catch {
          // a page or a script: kept as text
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body })
      })
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${LIVENESS_MS} ms`)))
    req.on('error', reject)
    req.end(o.body)
  })
}

const order = (extra: Record<string, unknown> = {}) => JSON.stringify({ sku: 'mug', qty: 1, warehouse: 'east', ...extra })

async function legitimateClientServed(): Promise<void> {
  const products = await call('GET', '/products')
  assert.is(products.status, 200)
  const placed = await call('POST', '/orders', { body: order() })
  assert.is(placed.status, 200, JSON.stringify(placed.body))
}

test.before(async () => {
  node = fakeNode()
  api = new HttpApi(node)
  port = (await api.listen('127.0.0.1', 0)).port
})

test.after(async () => {
  await api.close()
})

test('every answer carries the security headers the chat gateway sets (CSP and friends)', async () => {
  for (const [method, path, body] of [['GET', '/'], ['GET', '/app.js'], ['GET', '/products'], ['GET', '/nope'], ['POST', '/orders', '{'], ['DELETE', '/orders']] as const) {
    const r = await call(method, path, body === undefined ? {} : { body })
    const csp = String(r.headers['content-security-policy'] ?? '')
    assert.ok(csp.includes("default-src 'none'") && csp.includes("script-src 'self'") && csp.includes("frame-ancestors 'none'"), `${method} ${path}: csp ${csp}`)
    assert.is(r.headers['x-content-type-options'], 'nosniff', `${method} ${path}`)
    assert.is(r.headers['referrer-policy'], 'no-referrer', `${method} ${path}`)
  }
  await legitimateClientServed()
})

test('bad input gets a clear 4xx with a stable code, never a 5xx, and places no order', async () => {
  const before = node.placed.length
  const cases: Array<[string, string, { body?: string; headers?: Record<string, string> }, number, string]> = [
    ['POST', '/orders', { body: '{not json' }, 400, 'INVALID_JSON'],
    ['POST', '/orders', { body: '' }, 400, 'INVALID_BODY'],
    ['POST', '/orders', { body: 'null' }, 400, 'INVALID_BODY'],
    ['POST', '/orders', { body: '[1,2]' }, 400, 'INVALID_BODY'],
    ['POST', '/orders', { body: '"mug"' }, 400, 'INVALID_BODY'],
    ['POST', '/orders', { body: `${'['.repeat(2000)}${']'.repeat(2000)}` }, 400, 'INVALID_BODY'],
    ['POST', '/orders', { body: order({ qty: '2' }) }, 400, 'INVALID_QTY'],
    ['POST', '/orders', { body: order({ qty: 2.5 }) }, 400, 'INVALID_QTY'],
    ['POST', '/orders', { body: order({ qty: -1 }) }, 400, 'INVALID_QTY'],
    ['POST', '/orders', { body: '{"sku":"mug","qty":1e400,"warehouse":"east"}' }, 400, 'INVALID_QTY'],
    ['POST', '/orders', { body: `{"sku":"mug","qty":${'9'.repeat(400)},"warehouse":"east"}` }, 400, 'INVALID_QTY'],
    ['POST', '/orders', { body: order({ sku: 'constructor' }) }, 400, 'UNKNOWN_SKU'],
    ['POST', '/orders', { body: order({ sku: ['mug'] }) }, 400, 'UNKNOWN_SKU'],
    ['POST', '/orders', { body: order({ warehouse: 'toString' }) }, 400, 'UNKNOWN_WAREHOUSE'],
    ['POST', '/orders', { body: order({ id: 'x'.repeat(101) }) }, 400, 'INVALID_ID'],
    ['POST', '/orders', { body: order({ id: 7 }) }, 400, 'INVALID_ID'],
    ['POST', '/orders', { body: order({ extra: 1 }) }, 400, 'UNKNOWN_FIELD'],
    ['POST', '/orders', { body: '{"__proto__":{"polluted":1},"sku":"mug","qty":1,"warehouse":"east"}' }, 400, 'FORBIDDEN_KEY'],
    ['POST', '/orders', { body: '{"sku":"mug","qty":1,"warehouse":"east","id":"a","constructor":{"prototype":{"x":1}}}' }, 400, 'FORBIDDEN_KEY'],
    ['POST', '/orders', { body: order(), headers: { 'content-type': 'text/plain' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['POST', '/orders', { body: order(), headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['POST', '/orders', { body: 'x'.repeat(64 * 1024) }, 413, 'TOO_LARGE'],
    ['POST', '/payment/mode', { body: '{"mode":"__proto__"}' }, 400, 'INVALID_MODE'],
    ['POST', '/payment/mode', { body: '{"mode":"ok","__proto__":1}' }, 400, 'FORBIDDEN_KEY'],
    ['GET', '/orders/%E0%A4%A', {}, 400, 'INVALID_ID'],
    ['GET', '/orders/%00', {}, 400, 'INVALID_ID'],
    ['DELETE', '/orders', {}, 405, 'METHOD_NOT_ALLOWED'],
    ['PUT', '/products', { body: '{}' }, 405, 'METHOD_NOT_ALLOWED'],
  ]
  for (const [method, path, o, status, code] of cases) {
    const r = await call(method, path, o)
    assert.is(r.status, status, `${method} ${path} ${o.body?.slice(0, 60) ?? ''}: ${JSON.stringify(r.body)}`)
    assert.is(r.body?.error, code, `${method} ${path} ${o.body?.slice(0, 60) ?? ''}`)
  }
  assert.is(node.placed.length, before, 'no bad request placed an order')
  assert.is(({} as Record<string, unknown>).polluted, undefined)
  await legitimateClientServed()
})

test('a body announced larger than the cap is refused from its headers, without waiting for it', async () => {
  const r = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/orders', localAddress: '127.0.0.2', agent: false, headers: { 'content-type': 'application/json', 'content-length': String(50 * 1024 * 1024) } }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.setTimeout(LIVENESS_MS, () => req.destroy(new Error('the node waited for a 50 MB body')))
    req.write('{"sku":')
  })
  assert.is(r, 413)
  await legitimateClientServed()
})

test('one address that floods is answered 429 (with Retry-After); another address is still served', async () => {
  const replies: Reply[] = []
  for (let i = 0; i < 400; i += 40) replies.push(...(await Promise.all(Array.from({ length: 40 }, () => call('GET', '/products', { from: '127.0.0.3' })))))
  const limited = replies.filter((r) => r.status === 429)
  assert.ok(limited.length > 0, 'no request of the flood was limited')
  assert.is(limited[0]!.body.error, 'RATE_LIMITED')
  assert.ok(Number(limited[0]!.headers['retry-after']) >= 1, 'Retry-After says when')
  assert.ok(replies.every((r) => r.status === 200 || r.status === 429))
  await legitimateClientServed()
})

test('idle connections from one address are capped; the node keeps serving others', async () => {
  const sockets: Socket[] = []
  let closedByNode = 0
  try {
    for (let i = 0; i < 100; i++) {
      const s = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.4' })
      s.on('error', () => {})
      s.on('close', () => closedByNode++)
      sockets.push(s)
    }
    const deadline = Date.now() + LIVENESS_MS
    while (closedByNode < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    assert.ok(closedByNode >= 50, `the node closed ${closedByNode} of 100 idle connections from one address`)
    await legitimateClientServed()
  } finally {
    for (const s of sockets) s.destroy()
  }
})

test.run()
