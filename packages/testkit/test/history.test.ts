import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { HistoryMisuseError, HistoryRecorder } from '../src/history.js'

// uvu's assert.throws takes a predicate or a RegExp, not a class.
const isMisuse = (error: unknown): boolean => error instanceof HistoryMisuseError

function recorder(): { rec: HistoryRecorder<string, number>; tick: (to: number) => void } {
  let now = 0
  const rec = new HistoryRecorder<string, number>(() => now)
  return { rec, tick: (to) => void (now = to) }
}

test('ok operations carry call and return times from the injected clock', () => {
  const { rec, tick } = recorder()
  tick(10)
  const a = rec.invoke('c1', 'read')
  tick(12)
  const b = rec.invoke(2, 'write')
  tick(15)
  rec.ok(b, 7)
  tick(20)
  rec.ok(a, 7)
  assert.equal(rec.operations(), [
    { clientId: 'c1', input: 'read', output: 7, call: 10, return: 20, outcome: 'ok' },
    { clientId: 2, input: 'write', output: 7, call: 12, return: 15, outcome: 'ok' },
  ])
})

test('fail drops the operation; info and still-pending become info with return Infinity', () => {
  const { rec, tick } = recorder()
  const failed = rec.invoke('a', 'x')
  const timedOut = rec.invoke('b', 'y')
  rec.invoke('c', 'z') // never completed
  tick(5)
  rec.fail(failed, new Error('rejected'))
  rec.info(timedOut)
  assert.is(rec.pendingCount(), 1)
  assert.equal(rec.operations(), [
    { clientId: 'b', input: 'y', output: undefined, call: 0, return: Infinity, outcome: 'info' },
    { clientId: 'c', input: 'z', output: undefined, call: 0, return: Infinity, outcome: 'info' },
  ])
})

test('events() lists every event in recording order', () => {
  const { rec, tick } = recorder()
  const a = rec.invoke('a', 'x')
  tick(1)
  const b = rec.invoke('b', 'y')
  tick(2)
  rec.info(a)
  const error = new Error('no')
  rec.fail(b, error)
  assert.equal(rec.events(), [
    { type: 'invoke', opId: a, clientId: 'a', time: 0, input: 'x' },
    { type: 'invoke', opId: b, clientId: 'b', time: 1, input: 'y' },
    { type: 'info', opId: a, clientId: 'a', time: 2 },
    { type: 'fail', opId: b, clientId: 'b', time: 2, error },
  ])
  rec.events().pop()
  assert.is(rec.events().length, 4, 'a copy')
})

test('completing twice or an unknown id throws', () => {
  const { rec } = recorder()
  const a = rec.invoke('a', 'x')
  rec.ok(a, 1)
  assert.throws(() => rec.ok(a, 1), isMisuse)
  assert.throws(() => rec.info(a), isMisuse)
  assert.throws(() => rec.fail(a), isMisuse)
  assert.throws(() => rec.ok(99, 1), isMisuse)
  assert.throws(() => rec.ok(-1, 1), isMisuse)
  assert.throws(() => rec.ok(0.5, 1), isMisuse)
  const b = rec.invoke('a', 'y')
  rec.info(b)
  assert.throws(() => rec.ok(b, 2), /already completed as info/)
})

test('a clock that goes backwards or is not finite throws', () => {
  let now = 5
  const rec = new HistoryRecorder<string, number>(() => now)
  rec.invoke('a', 'x')
  now = 4
  assert.throws(() => rec.invoke('b', 'y'), /backwards/)
  now = Number.NaN
  assert.throws(() => rec.invoke('b', 'y'), isMisuse)
})

test('maxOperations bounds the history', () => {
  const rec = new HistoryRecorder<string, number>(() => 0, { maxOperations: 2 })
  rec.invoke('a', 'x')
  rec.invoke('a', 'x')
  assert.throws(() => rec.invoke('a', 'x'), /maximum of 2/)
})

test.run()
