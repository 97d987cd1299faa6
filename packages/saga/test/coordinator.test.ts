import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { isSagaError, MemorySagaLog, saga, SagaError } from '../src/index.js'
import type { StepContext } from '../src/index.js'
import { ManualNode, transitions } from './harness.js'

interface Order {
  sku: string
  qty: number
  amount: number
}

class CardDeclined extends Error {
  override name = 'CardDeclined'
}

/** A participant's log of what it did, in order. */
function journal() {
  const calls: string[] = []
  return {
    calls,
    fn(name: string, result?: unknown) {
      return (_input: unknown, ctx: StepContext<any>) => {
        calls.push(`${name}:${ctx.idempotencyKey}#${ctx.attempt}`)
        return result
      }
    },
  }
}

test('a saga whose steps succeed completes; later steps see earlier results, typed', async () => {
  const node = new ManualNode()
  const seen: unknown[] = []
  const def = saga<Order>('place-order')
    .step('reserve', { do: (o) => ({ reservation: `r-${o.sku}-${o.qty}` }), undo: () => {} })
    .step('charge', {
      do: (o, ctx) => {
        const r: string = ctx.results.reserve.reservation
        seen.push(r)
        return { charge: o.amount * 100 }
      },
      undo: () => {},
    })
    .step('ship', { do: (_o, ctx) => `ship-${ctx.results.charge.charge}`, kind: 'retriable' })
  const result = await node.settle(node.coordinator.run(def, { sku: 'apple', qty: 2, amount: 3 }, { id: 'o1' }))
  assert.equal(result, { status: 'completed', id: 'o1', results: { reserve: { reservation: 'r-apple-2' }, charge: { charge: 300 }, ship: 'ship-300' } })
  assert.equal(seen, ['r-apple-2'])
  const history = await node.coordinator.history('o1')
  assert.equal(transitions(history), [
    'SagaStarted',
    'StepScheduled:reserve', 'StepSucceeded:reserve',
    'StepScheduled:charge', 'StepSucceeded:charge',
    'StepScheduled:ship', 'StepSucceeded:ship',
    'SagaCompleted',
  ])
  const status = await node.coordinator.status('o1')
  assert.is(status?.state, 'completed')
  assert.is(status?.owner, 'n1')
  assert.ok(node.events.some((e) => e.type === 'completed' && e.sagaId === 'o1'))
  await node.stop()
})

test('a step that fails for good compensates the scheduled steps in reverse order, failed step first', async () => {
  const node = new ManualNode()
  const j = journal()
  const def = saga<Order>('place-order')
    .step('reserve', { do: j.fn('reserve', 'R'), undo: j.fn('release') })
    .step('charge', {
      do: () => {
        j.calls.push('charge')
        throw new CardDeclined('no funds')
      },
      undo: j.fn('refund'),
      nonRetryable: [CardDeclined],
    })
    .step('ship', { do: j.fn('ship'), kind: 'retriable' })
  const result = await node.settle(node.coordinator.run(def, { sku: 'a', qty: 1, amount: 1 }, { id: 'o2' }))
  assert.is(result.status, 'compensated')
  if (result.status !== 'compensated') return
  assert.equal(result.cause.step, 'charge')
  assert.equal(result.cause.error, { name: 'CardDeclined', message: 'no funds' })
  // Non-retryable: one try. The failed step is undone too (its outcome may be unknown to the saga), before reserve.
  assert.equal(j.calls, ['reserve:o2/reserve#1', 'charge', 'refund:o2/charge#1', 'release:o2/reserve#1'])
  const history = await node.coordinator.history('o2')
  const started = history!.find((r) => r.type === 'CompensationStarted')
  assert.equal(started?.type === 'CompensationStarted' && started.order, ['charge', 'reserve'])
  assert.ok(!transitions(history).some((t) => t.endsWith(':ship')), 'ship was never scheduled, never compensated')
  await node.stop()
})

test('retryable failures are retried with backoff under the same key; attempts counted', async () => {
  const node = new ManualNode()
  const tries: { key: string; attempt: number; at: number }[] = []
  const def = saga<null>('flaky').step('charge', {
    do: (_i, ctx) => {
      tries.push({ key: ctx.idempotencyKey, attempt: ctx.attempt, at: node.clock.now() })
      if (ctx.attempt < 3) throw new Error('flaky')
      return 'ok'
    },
    retry: { attempts: 5, backoffMs: 100, maxBackoffMs: 1000 },
  })
  const result = await node.settle(node.coordinator.run(def, null, { id: 's' }))
  assert.is(result.status, 'completed')
  assert.equal(tries.map((t) => [t.key, t.attempt]), [['s/charge', 1], ['s/charge', 2], ['s/charge', 3]])
  // Equal jitter: the n-th retry waits between half and all of 100·2^(n-1) ms.
  const gaps = [tries[1].at - tries[0].at, tries[2].at - tries[1].at]
  assert.ok(gaps[0] >= 50 && gaps[0] <= 100, `first backoff ${gaps[0]}`)
  assert.ok(gaps[1] >= 100 && gaps[1] <= 200, `second backoff ${gaps[1]}`)
  await node.stop()
})

test('retries used up: the step fails for good and the saga compensates', async () => {
  const node = new ManualNode()
  let undone = 0
  const def = saga<null>('always-fails')
    .step('a', { do: () => 1, undo: () => void undone++ })
    .step('b', { do: () => { throw new Error('down') }, retry: { attempts: 4, backoffMs: 10 } })
  const result = await node.settle(node.coordinator.run(def, null, { id: 'x' }))
  assert.is(result.status, 'compensated')
  const history = await node.coordinator.history('x')
  assert.is(transitions(history).filter((t) => t === 'StepScheduled:b').length, 4)
  assert.is(undone, 1)
  await node.stop()
})

test('a call that does not settle in time fails with STEP_TIMEOUT, its signal aborts, and it is retried', async () => {
  const node = new ManualNode()
  const signals: AbortSignal[] = []
  const def = saga<null>('slow').step('call', {
    do: (_i, ctx) => {
      signals.push(ctx.signal)
      if (ctx.attempt === 1) return new Promise(() => {}) // never settles
      return 'late but fine'
    },
    timeoutMs: 500,
    retry: { attempts: 2, backoffMs: 10 },
  })
  const result = await node.settle(node.coordinator.run(def, null, { id: 't' }))
  assert.equal(result, { status: 'completed', id: 't', results: { call: 'late but fine' } })
  assert.ok(signals[0].aborted)
  assert.ok(isSagaError(signals[0].reason, 'STEP_TIMEOUT'))
  assert.not.ok(signals[1].aborted)
  const failed = (await node.coordinator.history('t'))!.find((r) => r.type === 'StepFailed')
  assert.is(failed?.type === 'StepFailed' && failed.error.code, 'STEP_TIMEOUT')
  await node.stop()
})

test('a compensation failing past its policy is stuck, loudly, never compensated; retry() finishes it', async () => {
  const node = new ManualNode()
  let refundWorks = false
  const def = saga<null>('refund-breaks')
    .options({ compensation: { attempts: 3, backoffMs: 10 } })
    .step('charge', { do: () => 'c', undo: () => { if (!refundWorks) throw new Error('bank down') } })
    .step('ship', { do: () => { throw new Error('no truck') }, retry: { attempts: 1 } })
  const result = await node.settle(node.coordinator.run(def, null, { id: 'st' }))
  assert.is(result.status, 'stuck')
  if (result.status !== 'stuck') return
  assert.is(result.step, 'charge')
  assert.is(result.error.message, 'bank down')
  assert.is(result.cause.step, 'ship')
  assert.is((await node.coordinator.status('st'))?.state, 'stuck')
  assert.ok(node.events.some((e) => e.type === 'stuck' && e.sagaId === 'st'))
  assert.not.ok(node.events.some((e) => e.type === 'compensated'))
  assert.ok(node.reports.some((l) => l.includes('STUCK')))
  assert.is((await node.coordinator.recover()).length, 0, 'a stuck saga is not resumed by recovery')

  refundWorks = true
  await node.settle(node.coordinator.retry('st'))
  const after = await node.settle(node.coordinator.wait('st'))
  assert.is(after.status, 'compensated')
  await node.stop()
})

test('after a pivot succeeds nothing is compensated; retriable steps are retried until they succeed', async () => {
  const node = new ManualNode()
  const undone: string[] = []
  let shipTries = 0
  const def = saga<null>('pivoted')
    .step('reserve', { do: () => 'r', undo: () => void undone.push('reserve') })
    .step('charge', { do: () => 'c', kind: 'pivot' })
    .step('ship', {
      do: () => {
        if (++shipTries < 30) throw new Error('carrier down')
        return 'shipped'
      },
      kind: 'retriable',
      retry: { backoffMs: 10, maxBackoffMs: 100 },
    })
  const result = await node.settle(node.coordinator.run(def, null, { id: 'p' }))
  assert.is(result.status, 'completed')
  assert.is(shipTries, 30)
  assert.equal(undone, [])
  // Tries past the 16th are not recorded one by one: the history stays bounded.
  const history = (await node.coordinator.history('p'))!
  assert.ok(history.length < 2 * 30, `history has ${history.length} records`)
  await node.stop()
})

test('a failing pivot compensates the steps before it (the pivot has no undo)', async () => {
  const node = new ManualNode()
  const undone: string[] = []
  const def = saga<null>('pivot-fails')
    .step('reserve', { do: () => 'r', undo: () => void undone.push('reserve') })
    .step('charge', { do: () => { throw new CardDeclined('declined') }, kind: 'pivot', nonRetryable: [CardDeclined] })
    .step('ship', { do: () => 's', kind: 'retriable' })
  const result = await node.settle(node.coordinator.run(def, null, { id: 'pf' }))
  assert.is(result.status, 'compensated')
  assert.equal(undone, ['reserve'])
  await node.stop()
})

test('a pivot that times out is asked again until it answers: its failure must be definite', async () => {
  const node = new ManualNode()
  let tries = 0
  const def = saga<null>('pivot-slow')
    .step('charge', {
      do: () => (++tries < 6 ? new Promise(() => {}) : 'charged'),
      kind: 'pivot',
      timeoutMs: 100,
      retry: { attempts: 2, backoffMs: 10 },
    })
  const result = await node.settle(node.coordinator.run(def, null, { id: 'ps' }))
  assert.is(result.status, 'completed')
  assert.is(tries, 6)
  await node.stop()
})

test('parallel steps run together; one failing compensates every scheduled sibling in reverse order of completion', async () => {
  const node = new ManualNode()
  const log: string[] = []
  const later = (ms: number, v: string) => new Promise<string>((resolve) => node.clock.setTimer(ms, () => resolve(v)))
  const def = saga<null>('fan-out')
    .step('first', { do: () => 'f', undo: () => void log.push('undo first') })
    .parallel({
      slow: { do: () => later(300, 'slow'), undo: () => void log.push('undo slow') },
      fast: { do: () => later(100, 'fast'), undo: () => void log.push('undo fast') },
      bad: { do: () => later(200, 'x').then(() => { throw new CardDeclined('no') }), undo: () => void log.push('undo bad'), nonRetryable: [CardDeclined] },
    })
    .step('never', { do: () => 'n', undo: () => void log.push('undo never') })
  const result = await node.settle(node.coordinator.run(def, null, { id: 'par' }))
  assert.is(result.status, 'compensated')
  // bad failed (unknown outcome) first; then fast (completed first of the group)... reversed: slow, fast; then first.
  assert.equal(log, ['undo bad', 'undo slow', 'undo fast', 'undo first'])
  await node.stop()
})

test('parallel results are typed per step', async () => {
  const node = new ManualNode()
  const def = saga<{ n: number }>('typed')
    .parallel({ a: { do: (i) => i.n + 1 }, b: { do: async (i) => `${i.n}` } })
    .step('sum', { do: (_i, ctx) => ctx.results.a + Number(ctx.results.b) })
  const result = await node.settle(node.coordinator.run(def, { n: 4 }))
  assert.ok(result.status === 'completed' && result.results.sum === 9)
  await node.stop()
})

test('run is idempotent on id: the same saga is not started twice; another saga under the id is refused', async () => {
  const node = new ManualNode()
  let runs = 0
  const def = saga<{ v: number }>('once').step('a', { do: () => ++runs })
  const [r1, r2] = await node.settle(Promise.all([node.coordinator.run(def, { v: 1 }, { id: 'same' }), node.coordinator.run(def, { v: 1 }, { id: 'same' })]))
  const r3 = await node.settle(node.coordinator.run(def, { v: 1 }, { id: 'same' }))
  assert.is(runs, 1)
  assert.equal(r1, r2)
  assert.equal(r1, r3)
  const err = await node.settle(node.coordinator.run(def, { v: 2 }, { id: 'same' })).catch((e) => e)
  assert.ok(isSagaError(err, 'SAGA_ID_CONFLICT'), String(err))
  const other = saga<{ v: number }>('other').step('a', { do: () => 0 })
  const err2 = await node.settle(node.coordinator.run(other, { v: 1 }, { id: 'same' })).catch((e) => e)
  assert.ok(isSagaError(err2, 'SAGA_ID_CONFLICT'), String(err2))
  await node.stop()
})

test('a step result that cannot be recorded fails the step (non-retryable) instead of breaking the log', async () => {
  const node = new ManualNode()
  const def = saga<null>('bad-result').step('a', { do: () => ({ f: () => 1 }) as unknown })
  const result = await node.settle(node.coordinator.run(def, null, { id: 'br' }))
  assert.ok(result.status === 'compensated' && result.cause.error.code === 'INVALID_ARGUMENT', JSON.stringify(result))
  await node.stop()
})

test('recovery after a restart resumes each unfinished saga once, even with concurrent recover calls', async () => {
  const log = new MemorySagaLog()
  const pending: (() => void)[] = []
  const calls: string[] = []
  const def = saga<null>('restart')
    .step('a', { do: (_i, ctx) => { calls.push(`a#${ctx.attempt}`); return new Promise<void>((r) => pending.push(r)) }, timeoutMs: 60_000 })
    .step('b', { do: () => void calls.push('b') })
  const first = new ManualNode(log)
  await first.settle(first.coordinator.start(def, null, { id: 'r1' }))
  await first.advance(10)
  await first.stop() // the process ends with step a in flight
  const second = new ManualNode(log, { seed: 2 })
  second.coordinator.register(def)
  const resumed = await second.settle(Promise.all([second.coordinator.recover(), second.coordinator.recover()]))
  assert.equal(resumed.flat(), ['r1'])
  await second.advance(10)
  assert.equal(second.coordinator.activeIds(), ['r1'], 'driven here, once')
  for (const r of pending) r()
  const result = await second.settle(second.coordinator.wait('r1'))
  assert.is(result.status, 'completed')
  assert.equal(calls, ['a#1', 'a#2', 'b'])
  const history = transitions(await log.read('r1'))
  assert.is(history.filter((t) => t === 'SagaResumed').length, 1)
  await second.stop()
})

test('definitions are checked: kinds in order, no undo on pivots, unique names', () => {
  const bad = (fn: () => unknown) => {
    try {
      fn()
    } catch (err) {
      return err instanceof SagaError && err.code === 'INVALID_DEFINITION'
    }
    return false
  }
  const base = saga<null>('d')
  assert.ok(bad(() => base.step('a', { do: () => 1 }).step('a', { do: () => 2 })))
  assert.ok(bad(() => base.step('p', { do: () => 1, kind: 'pivot' }).step('c', { do: () => 2 })))
  assert.ok(bad(() => base.step('r', { do: () => 1, kind: 'retriable' }).step('p', { do: () => 2, kind: 'pivot' })))
  assert.ok(bad(() => base.step('p', { do: () => 1, kind: 'pivot', undo: () => {} })))
  assert.ok(bad(() => base.step('r', { do: () => 1, kind: 'retriable', retry: { attempts: 3 } })))
  assert.ok(bad(() => base.parallel({ a: { do: () => 1 }, b: { do: () => 1, kind: 'retriable' } })))
  assert.ok(bad(() => base.parallel({ a: { do: () => 1, kind: 'pivot' }, b: { do: () => 1, kind: 'pivot' } })))
  assert.ok(bad(() => base.step('a/b', { do: () => 1 })))
  assert.ok(bad(() => base.step('t', { do: () => 1, timeoutMs: 0 })))
  assert.not.ok(bad(() => base.step('c', { do: () => 1 }).step('p', { do: () => 1, kind: 'pivot' }).parallel({ r1: { do: () => 1, kind: 'retriable' }, r2: { do: () => 1, kind: 'retriable' } })))
})

test.run()
