import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ManualClock } from '@troupe/runtime'
import { isSagaError, MemorySagaLog, saga } from '../src/index.js'
import type { StepContext } from '../src/index.js'
import { ManualNode, transitions } from './harness.js'

/** Three steps; `reserve` waits for the test to open its gate (or never returns). */
function shop(gate: Promise<void>) {
  const calls: string[] = []
  const effects = new Set<string>()
  const record = (name: string) => (_o: unknown, ctx: StepContext<any>) => {
    calls.push(`${name}@${ctx.sagaId.split('-')[0]}:${ctx.idempotencyKey}#${ctx.attempt}`)
    effects.add(ctx.idempotencyKey)
    return name
  }
  const def = saga<{ sku: string }>('shop')
    .step('reserve', {
      do: async (o, ctx) => {
        calls.push(`reserve-start:${ctx.idempotencyKey}`)
        await gate
        effects.add(ctx.idempotencyKey)
        return `r-${o.sku}`
      },
      undo: () => {},
    })
    .step('charge', { do: record('charge'), undo: () => {} })
    .step('ship', { do: record('ship') })
  return { def, calls, effects }
}

test('close({ timeoutMs }) refuses new sagas, lets the running step finish and records it, starts nothing more; recover() elsewhere finishes without doubling a step', async () => {
  const clock = new ManualClock(1000)
  const log = new MemorySagaLog()
  const a = new ManualNode(log, { name: 'a', clock })
  const b = new ManualNode(log, { name: 'b', clock, seed: 2 })
  let open!: () => void
  const { def, calls } = shop(new Promise<void>((r) => (open = r)))
  b.coordinator.register(def)
  const { id } = await a.settle(a.coordinator.start(def, { sku: 'apple' }, { id: 'o1' }))
  await a.advance(10)
  assert.equal(calls, ['reserve-start:o1/reserve'])
  const closing = a.coordinator.close({ timeoutMs: 60_000 })
  const refused = await a.coordinator.start(def, { sku: 'pear' }, { id: 'o2' }).catch((e) => e)
  assert.ok(isSagaError(refused, 'CLOSED'), String(refused))
  await a.advance(100)
  open()
  const result = await a.settle(closing)
  assert.equal(result, { parked: [id], interrupted: [] })
  assert.ok(clock.now() < 1000 + 60_000, 'close ended when the step finished, not at the timeout')
  // The finished step is recorded; the next one is announced but was not run here.
  const history = transitions(await a.coordinator.history(id))
  assert.equal(history.slice(0, 4), ['SagaStarted', 'StepScheduled:reserve', 'StepSucceeded:reserve', 'StepScheduled:charge'])
  assert.is(history.length, 4)
  assert.equal(calls, ['reserve-start:o1/reserve'])
  assert.is((await a.coordinator.status(id))?.state, 'running')
  // Another node resumes it: reserve is not run again, charge and ship run once.
  assert.equal(await b.settle(b.coordinator.recover({ owners: ['a'] })), [id])
  const done = await b.settle(b.coordinator.wait(id))
  assert.is(done.status, 'completed')
  // charge was announced (attempt 1) but never run on a: b runs it once, as attempt 2 (it cannot know attempt 1 never ran).
  assert.equal(calls, ['reserve-start:o1/reserve', 'charge@o1:o1/charge#2', 'ship@o1:o1/ship#1'])
  await a.stop()
  await b.stop()
})

test('close({ timeoutMs }) does not wait past the timeout for a step that never settles; the saga is interrupted and recovery runs the step again under the same idempotency key', async () => {
  const clock = new ManualClock(1000)
  const log = new MemorySagaLog()
  const a = new ManualNode(log, { name: 'a', clock })
  const b = new ManualNode(log, { name: 'b', clock, seed: 2 })
  const stuck = shop(new Promise<void>(() => {}))
  b.coordinator.register(shop(Promise.resolve()).def)
  const { id } = await a.settle(a.coordinator.start(stuck.def, { sku: 'apple' }, { id: 'o1' }))
  await a.advance(10)
  const startMs = clock.now()
  const result = await a.settle(a.coordinator.close({ timeoutMs: 500 }))
  assert.equal(result, { parked: [], interrupted: [id] })
  assert.is(clock.now() - startMs, 500)
  assert.equal(transitions(await a.coordinator.history(id)), ['SagaStarted', 'StepScheduled:reserve'])
  assert.equal(await b.settle(b.coordinator.recover({ owners: ['a'] })), [id])
  assert.is((await b.settle(b.coordinator.wait(id))).status, 'completed')
  assert.equal(stuck.calls, ['reserve-start:o1/reserve'], 'the interrupted attempt ran once on a')
  await a.stop()
  await b.stop()
})

test('close() without a timeout stops at once; closing twice returns the first result; a bad timeout is refused', async () => {
  const node = new ManualNode()
  const { def } = shop(new Promise<void>(() => {}))
  const { id } = await node.settle(node.coordinator.start(def, { sku: 'x' }, { id: 'o1' }))
  assert.throws(() => node.coordinator.close({ timeoutMs: -5 }), (e: unknown) => isSagaError(e, 'INVALID_ARGUMENT'))
  const first = node.coordinator.close()
  assert.is(node.coordinator.close({ timeoutMs: 1000 }), first)
  assert.equal(await node.settle(first), { parked: [], interrupted: [id] })
  await node.stop()
})

test('a saga waiting out a retry backoff parks at once when close begins (its retry is left to recovery)', async () => {
  const clock = new ManualClock(1000)
  const log = new MemorySagaLog()
  const a = new ManualNode(log, { name: 'a', clock })
  let failures = 0
  const def = saga<{ n: number }>('flaky').step('call', {
    do: () => {
      if (failures++ === 0) throw new Error('try again')
      return 'ok'
    },
    retry: { attempts: 5, backoffMs: 10_000, maxBackoffMs: 10_000 },
  })
  const { id } = await a.settle(a.coordinator.start(def, { n: 1 }, { id: 'f1' }))
  await a.advance(100)
  assert.is(failures, 1)
  const result = await a.settle(a.coordinator.close({ timeoutMs: 60_000 }))
  assert.equal(result, { parked: [id], interrupted: [] })
  assert.ok(clock.now() < 1100 + 10_000, 'did not wait for the backoff')
  assert.is(failures, 1, 'the retry was not started while closing')
  await a.stop()
})

test.run()
