// Property-based fuzzing of the API's decoders (api-input.ts) with
// fast-check: arbitrary text as a body, arbitrary JSON values, order-shaped
// objects with hostile field values, and prototype keys spelled into the
// JSON. A decoder never throws; it answers a 4xx with a stable code or a
// value that satisfies the API's rules. Seeded: INVENTORY_FUZZ_SEED=n
// replays a run (fast-check prints the seed and path of a failure).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { decodeJson, decodeMode, decodeOrder, decodeOrderId, ORDER_ID } from '../src/api-input.js'
import type { Decoded } from '../src/api-input.js'
import { MAX_ORDER_QTY, isWarehouse, productOf } from '../src/catalog.js'
import { isPaymentMode } from '../src/payment-ledger.js'

const SEED = Number(process.env.INVENTORY_FUZZ_SEED ?? Date.now() % 2 ** 31)
const RUNS = 400
const CODES = new Set(['INVALID_JSON', 'INVALID_BODY', 'FORBIDDEN_KEY', 'UNKNOWN_FIELD', 'UNKNOWN_SKU', 'INVALID_QTY', 'UNKNOWN_WAREHOUSE', 'INVALID_ID', 'INVALID_MODE'])

function refusalOk(d: Decoded<unknown>): void {
  if (d.ok) return
  assert.ok(d.status >= 400 && d.status < 500, `status ${d.status}`)
  assert.ok(CODES.has(d.code), `code ${d.code}`)
  assert.type(d.message, 'string')
}

function checkOrderBody(body: unknown): void {
  const d = decodeOrder(body)
  refusalOk(d)
  if (!d.ok) return
  const o = d.value
  assert.ok(productOf(o.sku) !== undefined && isWarehouse(o.warehouse))
  assert.ok(Number.isInteger(o.qty) && o.qty >= 1 && o.qty <= MAX_ORDER_QTY)
  assert.ok(o.id === undefined || ORDER_ID.test(o.id))
  assert.equal(Object.keys(o).sort(), ['qty', 'sku', 'warehouse', ...(o.id === undefined ? [] : ['id'])].sort())
}

function checkText(text: string): void {
  const j = decodeJson(text)
  refusalOk(j)
  if (!j.ok) return
  checkOrderBody(j.value)
  const m = decodeMode(j.value)
  refusalOk(m)
  if (m.ok) assert.ok(isPaymentMode(m.value))
}

const hostile = fc.oneof(
  fc.string(),
  fc.constantFrom('mug', 'east', 'west', 'ok', '__proto__', 'constructor', 'toString', 'hasOwnProperty', ''),
  fc.integer(),
  fc.double(),
  fc.constantFrom(1e308, -0, 0.5, MAX_ORDER_QTY, MAX_ORDER_QTY + 1, Number.MAX_SAFE_INTEGER + 2, null, true),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }),
)
const orderShape = fc.record(
  { sku: hostile, qty: hostile, warehouse: hostile, id: fc.oneof(hostile, fc.stringMatching(/^[A-Za-z0-9_.:-]{1,100}$/)), mode: hostile, extra: hostile },
  { requiredKeys: [] },
)

test(`the API decoders never throw and let through only valid input (seed ${SEED}, ${RUNS} runs per property)`, () => {
  const params = { seed: SEED, numRuns: RUNS }
  try {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 600 }), checkText), params)
    fc.assert(fc.property(fc.json({ maxDepth: 4 }), checkText), params)
    fc.assert(fc.property(fc.anything({ maxDepth: 3 }), (v) => checkOrderBody(v)), params)
    fc.assert(fc.property(orderShape, (o) => checkText(JSON.stringify(o))), params)
    fc.assert(
      fc.property(orderShape, fc.constantFrom('__proto__', 'constructor', 'prototype'), hostile, fc.boolean(), (o, key, v, nested) => {
        const inner = `${JSON.stringify(key)}:${JSON.stringify(v) ?? 'null'}`
        const body = JSON.stringify(o)
        const rest = body === '{}' ? '}' : `,${body.slice(1)}`
        const text = nested ? `{"wrap":{${inner}}${rest}` : `{${inner}${rest}`
        const j = decodeJson(text)
        assert.ok(!j.ok && j.code === 'FORBIDDEN_KEY', text)
        assert.is(({} as Record<string, unknown>).sku, undefined)
      }),
      params,
    )
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (raw) => {
      const d = decodeOrderId(raw)
      refusalOk(d)
      if (d.ok) assert.ok(ORDER_ID.test(d.value))
    }), params)
  } catch (err) {
    console.log(`  replay with INVENTORY_FUZZ_SEED=${SEED}`)
    throw err
  }
})

test.run()
