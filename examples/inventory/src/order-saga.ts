// Placing an order, as a saga: reserve the stock in the warehouse's Raft
// group → charge the payment provider → ship (moves the reservation from
// reserved to shipped). A failed reserve or charge compensates: refund, then
// release. Shipping is `retriable`: once the charge succeeded the order is
// committed and only goes forward.
//
// Every call carries the step's idempotency key (`<orderId>/<step>`, the
// same for every attempt, on any node, and for the undo), and the stock
// machine and the ledger deduplicate on it.
import { saga } from '@troupe/saga'
import type { ActorRef } from '@troupe/runtime'
import type { RaftGroup } from '@troupe/raft'
import type { Warehouse } from './catalog.js'
import type { PaymentProtocol } from './payment-service.js'
import type { StockCommand, StockQuery, StockQueryResult, StockResult } from './stock.js'

export type StockGroup = RaftGroup<StockCommand, StockResult, StockQuery, StockQueryResult>

export interface OrderInput {
  sku: string
  qty: number
  warehouse: Warehouse
  amountCents: number
}

/** Resolved lazily: a saga resumed right after start-up waits until the node has opened them. */
export interface OrderParticipants {
  stock(warehouse: Warehouse): StockGroup | Promise<StockGroup>
  payment(): ActorRef<PaymentProtocol> | Promise<ActorRef<PaymentProtocol>>
}

/** The saga's name in the log; a changed definition gets a new version. */
export const ORDER_SAGA = 'place-order-v1'
/** Per Raft command (the group retries inside it across leader changes). */
const STOCK_TIMEOUT_MS = 4000
/** Per payment call: above the slow provider's delay. */
const CHARGE_TIMEOUT_MS = 2000

/** Failures that retrying cannot fix: the order compensates at once. */
const definite = (codes: RegExp) => (err: unknown) => codes.test(String((err as Error)?.message ?? err))

export function orderSaga(p: OrderParticipants) {
  return saga<OrderInput>(ORDER_SAGA)
    .step('reserve', {
      do: async (o, ctx) => (await p.stock(o.warehouse)).propose({ op: 'reserve', key: ctx.idempotencyKey, sku: o.sku, qty: o.qty }, { timeoutMs: STOCK_TIMEOUT_MS }),
      undo: async (o, ctx) => (await p.stock(o.warehouse)).propose({ op: 'release', key: ctx.idempotencyKey }, { timeoutMs: STOCK_TIMEOUT_MS }),
      retry: { attempts: 6, backoffMs: 200, maxBackoffMs: 2000 },
      timeoutMs: STOCK_TIMEOUT_MS + 1000,
      nonRetryable: [definite(/OUT_OF_STOCK|REJECTED|UNKNOWN_SKU|INVALID/)],
    })
    .step('charge', {
      do: async (o, ctx) => (await p.payment()).ask('charge', { key: ctx.idempotencyKey, amountCents: o.amountCents }, { timeoutMs: CHARGE_TIMEOUT_MS }),
      undo: async (_o, ctx) => (await p.payment()).ask('refund', { key: ctx.idempotencyKey }, { timeoutMs: STOCK_TIMEOUT_MS * 2 }),
      retry: { attempts: 2, backoffMs: 200, maxBackoffMs: 1000 },
      timeoutMs: CHARGE_TIMEOUT_MS,
      nonRetryable: [definite(/DECLINED|REJECTED|INVALID/)],
    })
    .step('ship', {
      kind: 'retriable',
      do: async (o, ctx) => (await p.stock(o.warehouse)).propose({ op: 'ship', key: `${ctx.sagaId}/reserve` }, { timeoutMs: STOCK_TIMEOUT_MS }),
      timeoutMs: STOCK_TIMEOUT_MS + 1000,
    })
    .options({ compensation: { attempts: 30, backoffMs: 200, maxBackoffMs: 2000, timeoutMs: STOCK_TIMEOUT_MS * 2 + 1000 } })
}

export type OrderSaga = ReturnType<typeof orderSaga>
