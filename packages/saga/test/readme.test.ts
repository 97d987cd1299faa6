// The README examples, run as written (real clock, NodeDisk in a temporary
// directory). Asserts only what the examples promise.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, defineActor, NodeDisk } from '@troupe/runtime'
import { defineTxParticipant, FileSagaLog, IdempotencyStore, MemorySagaLog, saga, SagaCoordinator, TwoPhaseCoordinator } from '@troupe/saga'

test('README example: a saga on one node with the file log', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'saga-readme-'))
  // --- README example start ---
  // Participants deduplicate on the step's idempotency key.
  const Warehouse = defineActor({
    name: 'warehouse',
    initial: () => ({ stock: new Map([['apple', 10]]), keys: new IdempotencyStore() }),
    handlers: {
      reserve(s, p: { key: string; sku: string; qty: number }) {
        return s.keys.dedupe(p.key, () => {
          const have = s.stock.get(p.sku) ?? 0
          if (have < p.qty) throw new Error(`out of stock: ${p.sku}`)
          s.stock.set(p.sku, have - p.qty)
          return { reservation: p.key }
        })
      },
      release(s, p: { key: string; sku: string; qty: number }) {
        s.keys.compensate(p.key, () => s.stock.set(p.sku, (s.stock.get(p.sku) ?? 0) + p.qty))
      },
      count: (s, sku: string) => s.stock.get(sku) ?? 0,
    },
  })
  class CardDeclined extends Error {}
  const Bank = defineActor({
    name: 'bank',
    initial: () => ({ balance: 50, keys: new IdempotencyStore() }),
    handlers: {
      charge(s, p: { key: string; amount: number }) {
        return s.keys.dedupe(p.key, () => {
          if (s.balance < p.amount) throw new CardDeclined(`balance ${s.balance} < ${p.amount}`)
          s.balance -= p.amount
          return { charged: p.amount }
        })
      },
      refund(s, p: { key: string; amount: number }) {
        s.keys.compensate(p.key, () => (s.balance += p.amount))
      },
    },
  })

  const system = new ActorSystem({ name: 'shop' })
  const warehouse = system.spawn(Warehouse, { name: 'warehouse' })
  const bank = system.spawn(Bank, { name: 'bank' })

  interface Order { sku: string; qty: number; price: number }
  const placeOrder = saga<Order>('place-order')
    .step('reserve', {
      do: (o, ctx) => warehouse.ask('reserve', { key: ctx.idempotencyKey, sku: o.sku, qty: o.qty }),
      undo: (o, ctx) => warehouse.ask('release', { key: ctx.idempotencyKey, sku: o.sku, qty: o.qty }),
    })
    .step('charge', {
      do: (o, ctx) => bank.ask('charge', { key: ctx.idempotencyKey, amount: o.qty * o.price }),
      undo: (o, ctx) => bank.ask('refund', { key: ctx.idempotencyKey, amount: o.qty * o.price }),
      retry: { attempts: 5, backoffMs: 100, maxBackoffMs: 5000 },
      timeoutMs: 2000,
      // Over the network a handler's error arrives as HANDLER_FAILED with its message.
      nonRetryable: [(err) => /balance/.test(String((err as Error).message))],
    })
    .step('ship', { do: (_o, ctx) => `parcel for ${ctx.results.reserve.reservation}`, kind: 'retriable' })

  const log = await FileSagaLog.open(new NodeDisk(dataDir), { dir: 'sagas' })
  const sagas = new SagaCoordinator({ system, log, definitions: [placeOrder] })
  await sagas.recover() // resumes whatever a previous run left unfinished

  const ok = await sagas.run(placeOrder, { sku: 'apple', qty: 2, price: 10 }, { id: 'order-1' })
  console.log(ok) // { status: 'completed', id: 'order-1', results: { reserve: ..., charge: { charged: 20 }, ship: 'parcel for order-1/reserve' } }

  const declined = await sagas.run(placeOrder, { sku: 'apple', qty: 3, price: 20 }, { id: 'order-2' })
  console.log(declined.status, declined.status === 'compensated' && declined.cause.step) // compensated charge
  console.log(await warehouse.ask('count', 'apple')) // 8: order-2's reservation was released

  console.log((await sagas.history('order-2'))!.map((r) => r.type))
  // SagaStarted, StepScheduled, StepSucceeded, StepScheduled, StepFailed, CompensationStarted,
  // CompensationScheduled, CompensationSucceeded, CompensationScheduled, CompensationSucceeded, SagaCompensated
  await sagas.close()
  await log.close()
  await system.terminate()
  // --- README example end ---
  assert.is(ok.status, 'completed')
  assert.ok(ok.status === 'completed' && ok.results.ship === 'parcel for order-1/reserve')
  assert.ok(declined.status === 'compensated' && declined.cause.step === 'charge')
  await rm(dataDir, { recursive: true, force: true })
})

test('README example: two-phase transfer', async () => {
  // --- README 2PC example start ---
  type Move = { amount: number }
  const account = (balance: number) =>
    defineTxParticipant<{ balance: number; held: number }, Move>({
      initial: () => ({ balance, held: 0 }),
      prepare: (s, op) => {
        if (s.balance - s.held + op.amount < 0) return false // vote no
        s.held += Math.max(0, -op.amount) // hold the debit until the decision
        return true
      },
      commit: (s, op) => {
        s.held -= Math.max(0, -op.amount)
        s.balance += op.amount
      },
      abort: (s, op) => void (s.held -= Math.max(0, -op.amount)),
      handlers: { balance: (s) => s.balance },
    })
  const system = new ActorSystem({ name: 'bank' })
  const alice = system.spawn(account(100), { name: 'alice' })
  const bob = system.spawn(account(0), { name: 'bob' })
  const tpc = new TwoPhaseCoordinator({ system, log: new MemorySagaLog() })
  tpc.start() // answers prepared participants that ask for the outcome

  const r = await tpc.transact('transfer-1', [
    { participant: alice, op: { amount: -30 } },
    { participant: bob, op: { amount: 30 } },
  ])
  console.log(r.outcome) // committed
  const r2 = await tpc.transact('transfer-2', [
    { participant: alice, op: { amount: -500 } },
    { participant: bob, op: { amount: 500 } },
  ])
  console.log(r2.outcome) // aborted (alice voted no)
  await tpc.close()
  // --- README 2PC example end ---
  assert.is(r.outcome, 'committed')
  assert.is(r2.outcome, 'aborted')
  await new Promise((resolve) => setTimeout(resolve, 20)) // delivery of the commit
  assert.is(await alice.ask('balance'), 70)
  assert.is(await bob.ask('balance'), 30)
  await system.terminate()
})

test.run()
