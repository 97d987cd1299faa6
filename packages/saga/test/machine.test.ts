import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { saga } from '../src/index.js'
import type { SagaRecordBody } from '../src/index.js'
import { recordedAttemptsMax, SagaMachine } from '../src/internal/saga-machine.js'
import type { Batch } from '../src/internal/saga-machine.js'
import { retryDelayMs } from '../src/retry-policy.js'

const def = saga<null>('m')
  .step('a', { do: () => 1, undo: () => {} })
  .parallel({ b: { do: () => 2, undo: () => {} }, c: { do: () => 3 } })
  .step('p', { do: () => 4, kind: 'pivot' })
  .step('r', { do: () => 5, kind: 'retriable' })

const at = (body: SagaRecordBody) => ({ ...body, atMs: 0, by: 't#1' })
/** A batch as one line: the records to append, then the calls they announce. */
const show = (b: Batch) =>
  [
    ...(b.records.length ? [`append ${b.records.map((r) => ('step' in r ? `${r.type}:${r.step}` : r.type)).join(',')}`] : []),
    ...b.calls.map((c) => `call ${c.phase}:${c.step}#${c.attempt}`),
    ...b.timers.map((t) => `timer ${t.phase}:${t.step}`),
  ]

function drive(m: SagaMachine, out: string[]): void {
  out.push(...show(m.next()))
}

test('forward: each record is appended before the call it announces; stages wait for every parallel step', () => {
  const m = new SagaMachine(def.plan, retryDelayMs)
  m.apply(at({ type: 'SagaStarted', saga: 'm', input: null, owner: 'n' }), false)
  const out: string[] = []
  drive(m, out)
  assert.equal(out, ['append StepScheduled:a', 'call do:a#1'])
  out.length = 0
  m.settle('do', 'a', 1, { ok: true, result: 1 })
  drive(m, out)
  // One append carries the outcome and the decisions it leads to.
  assert.equal(out, ['append StepSucceeded:a,StepScheduled:b,StepScheduled:c', 'call do:b#1', 'call do:c#1'])
  out.length = 0
  m.settle('do', 'c', 1, { ok: true, result: 3 })
  drive(m, out)
  assert.equal(out, ['append StepSucceeded:c'], 'p waits for b')
})

test('recovery: a step scheduled without an outcome is dispatched again (same key, next attempt); nothing runs from replay alone', () => {
  const m = new SagaMachine(def.plan, retryDelayMs)
  const history: SagaRecordBody[] = [
    { type: 'SagaStarted', saga: 'm', input: null, owner: 'n' },
    { type: 'StepScheduled', step: 'a', attempt: 1 },
  ]
  for (const r of history) assert.equal(m.apply(at(r), false), [], 'replay starts no call')
  const out: string[] = []
  drive(m, out)
  assert.equal(out, ['append StepScheduled:a', 'call do:a#2'])
})

test('recovery while compensating: the undo in progress is retried, then the rest in the recorded order', () => {
  const m = new SagaMachine(def.plan, retryDelayMs)
  const history: SagaRecordBody[] = [
    { type: 'SagaStarted', saga: 'm', input: null, owner: 'n' },
    { type: 'StepScheduled', step: 'a', attempt: 1 },
    { type: 'StepSucceeded', step: 'a', attempt: 1, result: 1 },
    { type: 'StepScheduled', step: 'b', attempt: 1 },
    { type: 'StepScheduled', step: 'c', attempt: 1 },
    { type: 'StepSucceeded', step: 'b', attempt: 1, result: 2 },
    { type: 'StepFailed', step: 'c', attempt: 1, error: { name: 'E', message: 'x' }, final: true },
    { type: 'CompensationStarted', cause: { step: 'c', error: { name: 'E', message: 'x' } }, order: ['b', 'a'] },
    { type: 'CompensationScheduled', step: 'b', attempt: 1 },
  ]
  for (const r of history) m.apply(at(r), false)
  const out: string[] = []
  drive(m, out)
  assert.equal(out, ['append CompensationScheduled:b', 'call undo:b#2'])
  out.length = 0
  m.settle('undo', 'b', 2, { ok: true, result: undefined })
  drive(m, out)
  assert.equal(out, ['append CompensationSucceeded:b,CompensationScheduled:a', 'call undo:a#1'])
})

test('a stale outcome (an older attempt, or after a timeout) changes nothing', () => {
  const m = new SagaMachine(def.plan, retryDelayMs)
  m.apply(at({ type: 'SagaStarted', saga: 'm', input: null, owner: 'n' }), false)
  drive(m, [])
  assert.is(m.settle('do', 'a', 1, { ok: false, error: { name: 'SagaError', message: 't', code: 'STEP_TIMEOUT' }, retryable: true }), true)
  assert.is(m.settle('do', 'a', 1, { ok: true, result: 1 }), false)
})

test('retries past recordedAttemptsMax are not recorded one by one', () => {
  const m = new SagaMachine(def.plan, retryDelayMs)
  for (const r of [
    { type: 'SagaStarted', saga: 'm', input: null, owner: 'n' },
    { type: 'StepScheduled', step: 'a', attempt: 1 },
    { type: 'StepSucceeded', step: 'a', attempt: 1, result: 1 },
    { type: 'StepScheduled', step: 'b', attempt: 1 },
    { type: 'StepScheduled', step: 'c', attempt: 1 },
    { type: 'StepSucceeded', step: 'b', attempt: 1, result: 1 },
    { type: 'StepSucceeded', step: 'c', attempt: 1, result: 1 },
    { type: 'StepScheduled', step: 'p', attempt: 1 },
    { type: 'StepSucceeded', step: 'p', attempt: 1, result: 1 },
  ] as SagaRecordBody[]) m.apply(at(r), false)
  let appended = 0
  let attempt = 0
  for (let i = 0; i < recordedAttemptsMax + 5; i++) {
    let b = m.next()
    appended += b.records.length
    if (b.timers.length > 0) {
      m.retryDue('do', 'r')
      b = m.next()
      appended += b.records.length
    }
    assert.is(b.calls.length, 1, `try ${i + 1}: ${JSON.stringify(b)}`)
    attempt = b.calls[0].attempt
    m.settle('do', 'r', attempt, { ok: false, error: { name: 'E', message: 'down' }, retryable: true })
  }
  appended += m.next().records.length
  assert.ok(attempt > recordedAttemptsMax, `attempt ${attempt}`)
  assert.is(appended, 2 * recordedAttemptsMax, 'a StepScheduled and a StepFailed for each of the first tries only')
  assert.is(attempt, recordedAttemptsMax + 5)
})

test.run()
