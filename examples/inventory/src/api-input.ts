// Everything the HTTP API takes from a client, decoded before anything acts
// on it. Each decoder returns the value or a refusal with an HTTP status and
// a stable code, and never throws: malformed JSON, the wrong shape or types,
// numbers beyond what an order can hold, unknown fields and prototype keys
// (`__proto__`, `constructor`, `prototype`, at any depth) are all refusals.
import { MAX_ORDER_QTY, PRODUCTS, WAREHOUSES, isWarehouse, productOf } from './catalog.js'
import type { Warehouse } from './catalog.js'
import { isPaymentMode } from './payment-ledger.js'
import type { PaymentMode } from './payment-ledger.js'

export type Decoded<T> = { ok: true; value: T } | { ok: false; status: number; code: string; message: string }

export interface OrderRequest {
  sku: string
  qty: number
  warehouse: Warehouse
  id?: string
}

export const ORDER_ID = /^[A-Za-z0-9_.:-]{1,100}$/
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])
const ORDER_FIELDS = new Set(['sku', 'qty', 'warehouse', 'id'])
const MODE_FIELDS = new Set(['mode'])

const refuse = (status: number, code: string, message: string): Decoded<never> => ({ ok: false, status, code, message })

class ForbiddenKey extends Error {}

/** Parses a request body as JSON; prototype keys anywhere in it are refused. */
export function decodeJson(text: string): Decoded<unknown> {
  try {
    const value: unknown = JSON.parse(text, (key, v: unknown) => {
      if (FORBIDDEN_KEYS.has(key)) throw new ForbiddenKey(key)
      return v
    })
    return { ok: true, value }
  } catch (err) {
    if (err instanceof ForbiddenKey) return refuse(400, 'FORBIDDEN_KEY', `the key ${JSON.stringify(err.message)} is not accepted`)
    return refuse(400, 'INVALID_JSON', 'the body is not JSON')
  }
}

/** A plain JSON object with only `allowed` keys. */
function objectWith(body: unknown, allowed: ReadonlySet<string>): Decoded<Record<string, unknown>> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return refuse(400, 'INVALID_BODY', 'the body is a JSON object')
  for (const key of Object.keys(body)) {
    if (FORBIDDEN_KEYS.has(key)) return refuse(400, 'FORBIDDEN_KEY', `the key ${JSON.stringify(key)} is not accepted`)
    if (!allowed.has(key)) return refuse(400, 'UNKNOWN_FIELD', `unknown field ${JSON.stringify(key.slice(0, 40))}; the fields are ${[...allowed].join(', ')}`)
  }
  return { ok: true, value: body as Record<string, unknown> }
}

/** The body of POST /orders: `{sku, qty, warehouse, id?}`. */
export function decodeOrder(body: unknown): Decoded<OrderRequest> {
  const o = objectWith(body, ORDER_FIELDS)
  if (!o.ok) return o
  const { sku, qty, warehouse, id } = o.value
  if (typeof sku !== 'string' || productOf(sku) === undefined) return refuse(400, 'UNKNOWN_SKU', `sku is one of ${PRODUCTS.map((p) => p.sku).join(', ')}`)
  if (!(typeof qty === 'number' && Number.isInteger(qty) && qty >= 1 && qty <= MAX_ORDER_QTY)) return refuse(400, 'INVALID_QTY', `qty is an integer in 1..${MAX_ORDER_QTY}`)
  if (!isWarehouse(warehouse)) return refuse(400, 'UNKNOWN_WAREHOUSE', `warehouse is one of ${WAREHOUSES.join(', ')}`)
  if (id !== undefined && !(typeof id === 'string' && ORDER_ID.test(id))) return refuse(400, 'INVALID_ID', 'id is 1-100 letters, digits, _ . : -')
  return { ok: true, value: { sku, qty, warehouse, ...(id === undefined ? {} : { id: id as string }) } }
}

/** The body of POST /payment/mode: `{mode}`. */
export function decodeMode(body: unknown): Decoded<PaymentMode> {
  const o = objectWith(body, MODE_FIELDS)
  if (!o.ok) return o
  if (!isPaymentMode(o.value.mode)) return refuse(400, 'INVALID_MODE', "mode is one of 'ok', 'fail', 'timeout', 'slow'")
  return { ok: true, value: o.value.mode }
}

/** The `:id` of GET /orders/:id, still percent-encoded. */
export function decodeOrderId(raw: string): Decoded<string> {
  let id: string
  try {
    id = decodeURIComponent(raw)
  } catch {
    return refuse(400, 'INVALID_ID', 'the order id is not valid percent-encoding')
  }
  return ORDER_ID.test(id) ? { ok: true, value: id } : refuse(400, 'INVALID_ID', 'order ids are 1-100 letters, digits, _ . : -')
}
