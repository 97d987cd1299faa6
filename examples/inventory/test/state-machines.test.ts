// The replicated state of the example, without Raft: the stock machine's
// conservation, idempotency and fencing, and the payment ledger's
// deduplication and tombstones. These are the promises the sagas and the
// restock job lean on.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { ApplyMeta } from '@troupe/raft'
import { PaymentLedger } from '../src/payment-ledger.js'
import type { Charge } from '../src/payment-ledger.js'
import { StockMachine } from '../src/stock.js'
import type { StockCommand, StockView } from '../src/stock.js'

const meta = { index: 1, term: 1, timeMs: 0 } as unknown as ApplyMeta

function conserved(m: StockMachine): void {
  const view = m.query({ op: 'stock' }) as StockView
  for (const [sku, c] of Object.entries(view.skus)) {
    assert.is(c.initial + c.restocked, c.available + c.reserved + c.shipped, `conservation of ${sku}: ${JSON.stringify(c)}`)
    assert.ok(c.available >= 0 && c.reserved >= 0 && c.shipped >= 0, `no negative counts for ${sku}`)
  }
}

function throwsCode(fn: () => unknown, code: string): void {
  try {
    fn()
  } catch (err) {
    assert.match((err as Error).message, new RegExp(`^${code}`))
    return
  }
  assert.unreachable(`expected ${code}`)
}

test('stock: reserve, ship and release are idempotent on their key and conserve units', () => {
  const m = new StockMachine('east', { mug: 5 })
  m.apply({ op: 'reserve', key: 'o1/reserve', sku: 'mug', qty: 2 }, meta)
  m.apply({ op: 'reserve', key: 'o1/reserve', sku: 'mug', qty: 2 }, meta) // a retry
  m.apply({ op: 'ship', key: 'o1/reserve' }, meta)
  m.apply({ op: 'ship', key: 'o1/reserve' }, meta)
  m.apply({ op: 'reserve', key: 'o2/reserve', sku: 'mug', qty: 3 }, meta)
  m.apply({ op: 'release', key: 'o2/reserve' }, meta)
  m.apply({ op: 'release', key: 'o2/reserve' }, meta)
  const c = (m.query({ op: 'stock' }) as StockView).skus.mug!
  assert.equal(c, { initial: 5, restocked: 0, available: 3, reserved: 0, shipped: 2 })
  conserved(m)
  throwsCode(() => m.apply({ op: 'release', key: 'o1/reserve' }, meta), 'REJECTED')
  throwsCode(() => m.apply({ op: 'ship', key: 'o2/reserve' }, meta), 'REJECTED')
  throwsCode(() => m.apply({ op: 'reserve', key: 'o3/reserve', sku: 'mug', qty: 4 }, meta), 'OUT_OF_STOCK')
})

test('stock: a release that arrives before its reserve leaves a tombstone that refuses the late reserve', () => {
  const m = new StockMachine('east', { mug: 5 })
  m.apply({ op: 'release', key: 'o1/reserve' }, meta)
  throwsCode(() => m.apply({ op: 'reserve', key: 'o1/reserve', sku: 'mug', qty: 1 }, meta), 'REJECTED')
  assert.is((m.query({ op: 'stock' }) as StockView).skus.mug!.available, 5)
})

test('stock: restocks are fenced by the highest token seen, also after a snapshot round trip', () => {
  const m = new StockMachine('west', { mug: 0 })
  m.apply({ op: 'restock', key: 'r/5/1/mug', sku: 'mug', qty: 10, token: 5 }, meta)
  m.apply({ op: 'restock', key: 'r/5/1/mug', sku: 'mug', qty: 10, token: 5 }, meta) // duplicate
  m.apply({ op: 'restock', key: 'r/9/1/mug', sku: 'mug', qty: 10, token: 9 }, meta)
  throwsCode(() => m.apply({ op: 'restock', key: 'r/5/2/mug', sku: 'mug', qty: 10, token: 5 }, meta), 'FENCED')
  const copy = new StockMachine('west', { mug: 0 })
  copy.restore(structuredClone(m.snapshot()))
  throwsCode(() => copy.apply({ op: 'restock', key: 'r/8/1/mug', sku: 'mug', qty: 10, token: 8 }, meta), 'FENCED')
  const view = copy.query({ op: 'stock' }) as StockView
  assert.is(view.highestToken, 9)
  assert.equal(view.skus.mug, { initial: 0, restocked: 20, available: 20, reserved: 0, shipped: 0 })
  conserved(copy)
})

test('stock: random commands never break conservation', () => {
  let seed = 42
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n)
  const m = new StockMachine('east', { a: 10, b: 3 })
  for (let i = 0; i < 5000; i++) {
    const key = `o${rnd(200)}/reserve`
    const sku = rnd(2) ? 'a' : 'b'
    const cmds: StockCommand[] = [
      { op: 'reserve', key, sku, qty: 1 + rnd(4) },
      { op: 'release', key },
      { op: 'ship', key },
      { op: 'restock', key: `r${i}`, sku, qty: 1 + rnd(3), token: 1 + Math.floor(i / 100) },
    ]
    try {
      m.apply(cmds[rnd(4)]!, meta)
    } catch (err) {
      assert.match((err as Error).message, /^(OUT_OF_STOCK|REJECTED|FENCED)/)
    }
  }
  conserved(m)
})

test('ledger: a charge applies once per key; a refund first leaves a tombstone; the mode is replicated state', () => {
  const l = new PaymentLedger()
  l.apply({ op: 'charge', key: 'o1/charge', amountCents: 100 }, meta)
  l.apply({ op: 'charge', key: 'o1/charge', amountCents: 100 }, meta)
  l.apply({ op: 'refund', key: 'o1/charge' }, meta)
  l.apply({ op: 'refund', key: 'o1/charge' }, meta)
  l.apply({ op: 'refund', key: 'o2/charge' }, meta)
  throwsCode(() => l.apply({ op: 'charge', key: 'o2/charge', amountCents: 100 }, meta), 'REJECTED')
  l.apply({ op: 'decline', key: 'o3/charge' }, meta)
  throwsCode(() => l.apply({ op: 'charge', key: 'o3/charge', amountCents: 100 }, meta), 'REJECTED')
  l.apply({ op: 'mode', mode: 'slow' }, meta)
  const copy = new PaymentLedger()
  copy.restore(structuredClone(l.snapshot()))
  assert.is(copy.query({ op: 'mode' }), 'slow')
  assert.equal(copy.query({ op: 'totals' }), { chargedCents: 100, refundedCents: 100, charges: 1 })
  const charges = copy.query({ op: 'charges' }) as Record<string, Charge>
  assert.equal(charges['o1/charge'], { amountCents: 100, state: 'refunded' })
  assert.equal(charges['o2/charge'], { amountCents: 0, state: 'refunded' })
  assert.equal(charges['o3/charge'], { amountCents: 0, state: 'declined' })
})

test.run()
