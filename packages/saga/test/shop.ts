import type { ConservedQuantity, ObservedEffect, ObservedSaga } from '@troupe/testkit'
import { describeHistory, IdempotencyStore, saga } from '../src/index.js'
import type { Saga, SagaLog, SagaStatus } from '../src/index.js'

/** A business refusal: final, never retried. */
export class ShopRefusal extends Error {
  override name = 'ShopRefusal'
  constructor(readonly code: 'DECLINED' | 'OUT_OF_STOCK', message: string) {
    super(message)
  }
}

export interface Order {
  customer: string
  sku: string
  qty: number
  price: number
}

/** The participants' operations, each keyed by the saga step's idempotency key. */
export interface ShopApi {
  reserve(key: string, sku: string, qty: number): Promise<void>
  release(key: string): Promise<void>
  charge(key: string, customer: string, amount: number): Promise<void>
  refund(key: string): Promise<void>
  confirm(key: string): Promise<void>
  ship(key: string): Promise<void>
}

/**
 * The bank, the warehouse and the shipping desk of a shop, in one object
 * (each with its own idempotency store, as separate participants would
 * have). Every state change goes into `effects`, in order, for the checker.
 */
export class ShopState {
  readonly balances = new Map<string, number>()
  merchant = 0
  readonly available = new Map<string, number>()
  readonly held = new Map<string, { sku: string; qty: number }>()
  readonly charges = new Map<string, { customer: string; amount: number }>()
  readonly confirmed = new Set<string>()
  readonly shipped = new Set<string>()
  readonly effects: ObservedEffect[] = []
  private readonly bank = new IdempotencyStore({ maxKeys: 100_000 })
  private readonly warehouse = new IdempotencyStore({ maxKeys: 100_000 })
  private readonly desk = new IdempotencyStore({ maxKeys: 100_000 })
  readonly initialMoney: number
  readonly initialStock: number

  constructor(customers: Record<string, number>, stock: Record<string, number>) {
    for (const [c, b] of Object.entries(customers)) this.balances.set(c, b)
    for (const [s, n] of Object.entries(stock)) this.available.set(s, n)
    this.initialMoney = this.totalMoney()
    this.initialStock = this.totalStock()
  }

  reserve(key: string, sku: string, qty: number): void {
    this.warehouse.dedupe(key, () => {
      const have = this.available.get(sku) ?? 0
      if (have < qty) throw new ShopRefusal('OUT_OF_STOCK', `${sku}: ${have} < ${qty}`)
      this.available.set(sku, have - qty)
      this.held.set(key, { sku, qty })
      this.effect(key, 'apply')
    })
  }

  release(key: string): void {
    this.warehouse.compensate(key, () => {
      const h = this.held.get(key)!
      this.held.delete(key)
      this.available.set(h.sku, (this.available.get(h.sku) ?? 0) + h.qty)
      this.effect(key, 'undo')
    })
  }

  charge(key: string, customer: string, amount: number): void {
    this.bank.dedupe(key, () => {
      const have = this.balances.get(customer) ?? 0
      if (have < amount) throw new ShopRefusal('DECLINED', `${customer}: ${have} < ${amount}`)
      this.balances.set(customer, have - amount)
      this.merchant += amount
      this.charges.set(key, { customer, amount })
      this.effect(key, 'apply')
    })
  }

  refund(key: string): void {
    this.bank.compensate(key, () => {
      const c = this.charges.get(key)!
      this.charges.delete(key)
      this.merchant -= c.amount
      this.balances.set(c.customer, (this.balances.get(c.customer) ?? 0) + c.amount)
      this.effect(key, 'undo')
    })
  }

  confirm(key: string): void {
    this.desk.dedupe(key, () => {
      this.confirmed.add(key)
      this.effect(key, 'apply')
    })
  }

  ship(key: string): void {
    this.desk.dedupe(key, () => {
      this.shipped.add(key)
      this.effect(key, 'apply')
    })
  }

  totalMoney(): number {
    let sum = this.merchant
    for (const b of this.balances.values()) sum += b
    return sum
  }

  totalStock(): number {
    let sum = 0
    for (const n of this.available.values()) sum += n
    for (const h of this.held.values()) sum += h.qty
    return sum
  }

  /**
   * Money and stock are neither created nor destroyed, and they move
   * together: what the merchant earned is what completed orders cost, the
   * goods held are the completed orders' goods, one shipment per completed order.
   */
  conserved(orders: Map<string, Order>, completed: string[]): ConservedQuantity[] {
    let value = 0
    let qty = 0
    for (const id of completed) {
      const o = orders.get(id)!
      value += o.qty * o.price
      qty += o.qty
    }
    let held = 0
    for (const h of this.held.values()) held += h.qty
    return [
      { name: 'money in the system', expected: this.initialMoney, actual: this.totalMoney() },
      { name: 'stock in the system', expected: this.initialStock, actual: this.totalStock() },
      { name: 'merchant revenue = value of completed orders', expected: value, actual: this.merchant },
      { name: 'goods taken = goods of completed orders', expected: qty, actual: held },
      { name: 'shipments = completed orders', expected: completed.length, actual: this.shipped.size },
    ]
  }

  private effect(key: string, op: 'apply' | 'undo'): void {
    const slash = key.lastIndexOf('/')
    this.effects.push({ sagaId: key.slice(0, slash), step: key.slice(slash + 1), op })
  }
}

/** Reserve, charge (compensatable), confirm (the pivot), ship (retriable). */
export function placeOrder(api: ShopApi, options: { timeoutMs?: number } = {}): Saga<Order, any> {
  const timeoutMs = options.timeoutMs ?? 300
  return saga<Order>('place-order')
    .options({ nonRetryable: [ShopRefusal], compensation: { attempts: 12, backoffMs: 20, maxBackoffMs: 500, timeoutMs } })
    .step('reserve', {
      do: (o, ctx) => api.reserve(ctx.idempotencyKey, o.sku, o.qty),
      undo: (_o, ctx) => api.release(ctx.idempotencyKey),
      retry: { attempts: 4, backoffMs: 20, maxBackoffMs: 200 },
      timeoutMs,
    })
    .step('charge', {
      do: (o, ctx) => api.charge(ctx.idempotencyKey, o.customer, o.qty * o.price),
      undo: (_o, ctx) => api.refund(ctx.idempotencyKey),
      retry: { attempts: 4, backoffMs: 20, maxBackoffMs: 200 },
      timeoutMs,
    })
    .step('confirm', { do: (_o, ctx) => api.confirm(ctx.idempotencyKey), kind: 'pivot', retry: { attempts: 4, backoffMs: 20, maxBackoffMs: 200 }, timeoutMs })
    .step('ship', { do: (_o, ctx) => api.ship(ctx.idempotencyKey), kind: 'retriable', retry: { backoffMs: 20, maxBackoffMs: 500 }, timeoutMs })
}

export const shopSteps: ObservedSaga['steps'] = [
  { name: 'reserve', kind: 'compensatable', hasUndo: true },
  { name: 'charge', kind: 'compensatable', hasUndo: true },
  { name: 'confirm', kind: 'pivot', hasUndo: false },
  { name: 'ship', kind: 'retriable', hasUndo: false },
]

/** What the checker needs about every saga in the log (and those whose start was acknowledged). */
export async function observeSagas(log: SagaLog, ids: Iterable<string>, acknowledged: Set<string>, reported: Map<string, string>): Promise<{ sagas: ObservedSaga[]; statuses: Map<string, SagaStatus> }> {
  const sagas: ObservedSaga[] = []
  const statuses = new Map<string, SagaStatus>()
  for (const id of ids) {
    const history = await log.read(id)
    if (!history && !acknowledged.has(id)) continue
    const status = history ? describeHistory(id, history) : null
    if (status) statuses.set(id, status)
    sagas.push({
      id,
      steps: shopSteps,
      accepted: acknowledged.has(id) || history !== null,
      outcome: (reported.get(id) as ObservedSaga['outcome']) ?? status?.state ?? null,
      history: history as ObservedSaga['history'],
    })
  }
  return { sagas, statuses }
}
