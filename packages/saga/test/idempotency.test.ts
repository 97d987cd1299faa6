import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { IdempotencyStore, isSagaError } from '../src/index.js'

test('dedupe runs once per key and returns the first result to repeats', () => {
  const store = new IdempotencyStore()
  let balance = 100
  const debit = () => store.dedupe('s1/charge', () => (balance -= 30))
  assert.is(debit(), 70)
  assert.is(debit(), 70)
  assert.is(balance, 70)
  assert.is(store.state('s1/charge'), 'applied')
})

test('a throwing fn remembers nothing: the retry runs it again', async () => {
  const store = new IdempotencyStore()
  let calls = 0
  assert.throws(() => store.dedupe('k', () => { calls++; throw new Error('no') }))
  assert.is(store.state('k'), undefined)
  assert.is(store.dedupe('k', () => ++calls), 2)
  const failing = store.dedupe('a', () => Promise.reject(new Error('later')))
  await failing.catch(() => {})
  assert.is(store.state('a'), undefined)
})

test('compensate undoes an applied key once, with what dedupe returned', () => {
  const store = new IdempotencyStore()
  let stock = 10
  store.dedupe('s/reserve', () => { stock -= 3; return { qty: 3 } })
  const undo = (r: unknown) => void (stock += (r as { qty: number }).qty)
  assert.is(store.compensate('s/reserve', undo), true)
  assert.is(store.compensate('s/reserve', undo), false)
  assert.is(stock, 10)
  assert.is(store.state('s/reserve'), 'compensated')
})

test('undo before do leaves a tombstone: the late do is rejected with STEP_REJECTED', () => {
  const store = new IdempotencyStore()
  let stock = 10
  assert.is(store.compensate('s/reserve', () => void (stock += 3)), false)
  assert.is(stock, 10, 'nothing to undo')
  try {
    store.dedupe('s/reserve', () => (stock -= 3))
    assert.unreachable('a do after its undo must not apply')
  } catch (err) {
    assert.ok(isSagaError(err, 'STEP_REJECTED'))
  }
  assert.is(stock, 10)
})

test('a failing undo leaves the key applied for a retry', () => {
  const store = new IdempotencyStore()
  store.dedupe('k', () => 1)
  assert.throws(() => store.compensate('k', () => { throw new Error('later') }))
  assert.is(store.state('k'), 'applied')
  assert.is(store.compensate('k', () => {}), true)
})

test('bounded: beyond maxKeys the oldest keys are forgotten', () => {
  const store = new IdempotencyStore({ maxKeys: 3 })
  for (const k of ['a', 'b', 'c', 'd']) store.dedupe(k, () => k)
  assert.is(store.size, 3)
  assert.is(store.state('a'), undefined)
  assert.is(store.state('d'), 'applied')
})

test('snapshot and restore keep applied results and tombstones', () => {
  const store = new IdempotencyStore()
  store.dedupe('a', () => ({ n: 1 }))
  store.compensate('b', () => {})
  const copy = new IdempotencyStore()
  copy.restore(structuredClone(store.snapshot()))
  assert.equal(copy.dedupe('a', () => ({ n: 2 })), { n: 1 })
  assert.throws(() => copy.dedupe('b', () => 0), (e: unknown) => isSagaError(e, 'STEP_REJECTED'))
})

test.run()
