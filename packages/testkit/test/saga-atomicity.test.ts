import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { checkSagaAtomicity } from '../src/checkers/saga-atomicity.js'
import type { ObservedEffect, ObservedRecord, ObservedSaga, SagaAtomicityInput } from '../src/checkers/saga-atomicity.js'

const steps: ObservedSaga['steps'] = [
  { name: 'reserve', kind: 'compensatable', hasUndo: true },
  { name: 'charge', kind: 'compensatable', hasUndo: true },
  { name: 'pay', kind: 'pivot', hasUndo: false },
  { name: 'ship', kind: 'retriable', hasUndo: false },
]
const r = (type: string, step?: string, order?: string[]): ObservedRecord => ({ type, ...(step ? { step } : {}), ...(order ? { order } : {}) })
const fwd = (step: string) => [r('StepScheduled', step), r('StepSucceeded', step)]
const apply = (step: string, sagaId = 's'): ObservedEffect => ({ sagaId, step, op: 'apply' })
const undo = (step: string, sagaId = 's'): ObservedEffect => ({ sagaId, step, op: 'undo' })

const completedHistory = [r('SagaStarted'), ...fwd('reserve'), ...fwd('charge'), ...fwd('pay'), ...fwd('ship'), r('SagaCompleted')]
const compensatedHistory = [
  r('SagaStarted'), ...fwd('reserve'), r('StepScheduled', 'charge'), r('StepFailed', 'charge'),
  r('CompensationStarted', undefined, ['charge', 'reserve']),
  r('CompensationScheduled', 'charge'), r('CompensationSucceeded', 'charge'),
  r('CompensationScheduled', 'reserve'), r('CompensationSucceeded', 'reserve'),
  r('SagaCompensated'),
]

function input(saga: Partial<ObservedSaga>, effects: ObservedEffect[], extra: Partial<SagaAtomicityInput> = {}): SagaAtomicityInput {
  return { sagas: [{ id: 's', steps, accepted: true, outcome: null, history: [], ...saga }], effects, quiescent: true, ...extra }
}

const guarantees = (i: SagaAtomicityInput) => checkSagaAtomicity(i).map((v) => v.guarantee)

test('good runs pass: completed once each; compensated in reverse order', () => {
  assert.equal(checkSagaAtomicity(input({ outcome: 'completed', history: completedHistory }, ['reserve', 'charge', 'pay', 'ship'].map((s) => apply(s)))), [])
  assert.equal(checkSagaAtomicity(input({ outcome: 'compensated', history: compensatedHistory }, [apply('reserve'), apply('charge'), undo('charge'), undo('reserve')])), [])
  // The failed charge never applied: nothing to undo there.
  assert.equal(checkSagaAtomicity(input({ outcome: 'compensated', history: compensatedHistory }, [apply('reserve'), undo('reserve')])), [])
})

test('1: an accepted saga that never finished, or a report the log contradicts', () => {
  assert.equal(guarantees(input({ history: [r('SagaStarted'), ...fwd('reserve')] }, [apply('reserve')])), [1])
  assert.equal(guarantees(input({ history: [r('SagaStarted')] }, [], { quiescent: false })), [])
  assert.ok(guarantees(input({ outcome: 'compensated', history: completedHistory }, ['reserve', 'charge', 'pay', 'ship'].map((s) => apply(s)))).includes(1))
})

test('2: a step applied twice, a completed saga missing an effect, an effect never scheduled', () => {
  assert.ok(guarantees(input({ outcome: 'completed', history: completedHistory }, ['reserve', 'charge', 'charge', 'pay', 'ship'].map((s) => apply(s)))).includes(2))
  assert.ok(guarantees(input({ outcome: 'completed', history: completedHistory }, ['reserve', 'pay', 'ship'].map((s) => apply(s)))).includes(2))
  assert.ok(guarantees(input({ outcome: 'compensated', history: compensatedHistory }, [apply('reserve'), undo('reserve'), apply('ship')])).includes(2))
})

test('3: compensation reported while an effect stays applied (a failed compensation reported as success)', () => {
  assert.ok(guarantees(input({ outcome: 'compensated', history: compensatedHistory }, [apply('reserve'), apply('charge'), undo('charge')])).includes(3))
})

test('3: wrong order, undo of an unscheduled step, undo after the pivot', () => {
  const wrongOrder = compensatedHistory.map((x) => (x.type === 'CompensationStarted' ? r('CompensationStarted', undefined, ['reserve', 'charge']) : x))
  assert.ok(guarantees(input({ outcome: 'compensated', history: wrongOrder }, [apply('reserve'), apply('charge'), undo('reserve'), undo('charge')])).includes(3))
  assert.ok(guarantees(input({ outcome: 'compensated', history: compensatedHistory }, [apply('reserve'), apply('charge'), undo('reserve'), undo('charge')])).includes(3), 'participants saw the undos out of order')
  const early = [r('SagaStarted'), ...fwd('reserve'), r('StepScheduled', 'charge'), r('StepFailed', 'charge'), r('CompensationStarted', undefined, ['charge', 'reserve']), r('SagaCompensated')]
  assert.ok(guarantees(input({ outcome: 'compensated', history: early }, [apply('reserve'), undo('reserve'), undo('ship')])).includes(3))
  assert.ok(guarantees(input({ outcome: 'completed', history: completedHistory }, [...['reserve', 'charge', 'pay', 'ship'].map((s) => apply(s)), undo('pay')])).includes(3))
})

test('4: split decisions, a participant left prepared, a report that contradicts the participants', () => {
  const tx = (states: ('committed' | 'aborted' | 'prepared' | 'none')[], outcome: 'committed' | 'aborted' | null) => ({
    sagas: [],
    effects: [],
    quiescent: true,
    transactions: [{ txId: 't', outcome, participants: states.map((state, i) => ({ name: `p${i}`, state })) }],
  })
  assert.equal(checkSagaAtomicity(tx(['committed', 'committed'], 'committed')), [])
  assert.equal(checkSagaAtomicity(tx(['aborted', 'none'], 'aborted')), [])
  assert.equal(guarantees(tx(['committed', 'aborted'], 'committed')), [4, 4])
  assert.equal(guarantees(tx(['aborted', 'prepared'], 'aborted')), [4])
  assert.equal(guarantees(tx(['aborted', 'aborted'], 'committed')), [4])
})

test('conservation: a quantity that changed is reported', () => {
  const i = { sagas: [], effects: [], quiescent: true, conserved: [{ name: 'money', expected: 1000, actual: 1000 }, { name: 'stock', expected: 50, actual: 49 }] }
  assert.equal(checkSagaAtomicity(i), [{ guarantee: 'conservation', id: 'stock', message: 'stock is 49, expected 50' }])
})

test.run()
