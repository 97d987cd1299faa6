import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { isFinished, isSagaError } from '../src/index.js'
import type { SagaLog, SagaRecord } from '../src/index.js'

export interface LogHarness {
  log: SagaLog
  /** Closes the log and opens it again over the same durable state (after a crash where the log supports one). */
  reopen(options?: { retainFinished?: number }): Promise<SagaLog>
  cleanup(): Promise<void>
}

export type MakeLog = (options: { retainFinished?: number }) => Promise<LogHarness>

let at = 0
export function rec(body: Record<string, unknown> & { type: SagaRecord['type'] }): SagaRecord {
  return { ...body, atMs: ++at, by: 'test#1' } as SagaRecord
}
export const started = (input: unknown = null) => rec({ type: 'SagaStarted', saga: 's', input, owner: 'n1' })
export const completed = () => rec({ type: 'SagaCompleted' })
export const scheduled = (step: string, attempt = 1) => rec({ type: 'StepScheduled', step, attempt })

/** The contract every SagaLog keeps; each implementation runs it. */
export function sagaLogConformance(name: string, make: MakeLog) {
  const s = suite(`SagaLog conformance: ${name}`)

  s('append creates a history at seq 0 and extends it at its length; read gives it back', async () => {
    const h = await make({})
    const input = { sku: 'apple', qty: 2, bytes: new Uint8Array([1, 2, 3]), nested: { list: [1, 'two', null, true] } }
    await h.log.append({ id: 'a', seq: 0, records: [started(input)] })
    await h.log.append({ id: 'a', seq: 1, records: [scheduled('x'), scheduled('y')] })
    const history = await h.log.read('a')
    assert.is(history?.length, 3)
    const back = history?.[0].type === 'SagaStarted' ? (history[0].input as typeof input) : null
    // Byte strings come back as Uint8Array (a Buffer on Node).
    assert.ok(back?.bytes instanceof Uint8Array)
    assert.equal([...back!.bytes], [1, 2, 3])
    assert.equal({ ...back, bytes: null }, { ...input, bytes: null })
    assert.equal(history?.map((r) => r.type), ['SagaStarted', 'StepScheduled', 'StepScheduled'])
    assert.is(await h.log.read('missing'), null)
    await h.cleanup()
  })

  s('compare-and-append: a wrong seq is LOG_CONFLICT and changes nothing', async () => {
    const h = await make({})
    await h.log.append({ id: 'a', seq: 0, records: [started()] })
    for (const seq of [0, 2, 5]) {
      const err = await h.log.append({ id: 'a', seq, records: [scheduled('x')] }).catch((e) => e)
      assert.ok(isSagaError(err, 'LOG_CONFLICT'), `seq ${seq}: ${String(err)}`)
    }
    const err = await h.log.append({ id: 'b', seq: 1, records: [started()] }).catch((e) => e)
    assert.ok(isSagaError(err, 'LOG_CONFLICT'), 'a missing history has length 0')
    assert.is((await h.log.read('a'))?.length, 1)
    assert.is(await h.log.read('b'), null)
    await h.cleanup()
  })

  s('of two concurrent appends at the same seq exactly one wins', async () => {
    const h = await make({})
    await h.log.append({ id: 'a', seq: 0, records: [started()] })
    const results = await Promise.allSettled([
      h.log.append({ id: 'a', seq: 1, records: [scheduled('one')] }),
      h.log.append({ id: 'a', seq: 1, records: [scheduled('two')] }),
    ])
    assert.is(results.filter((r) => r.status === 'fulfilled').length, 1)
    const history = await h.log.read('a')
    assert.is(history?.length, 2)
    await h.cleanup()
  })

  s('unfinished lists histories without a terminal record, oldest first', async () => {
    const h = await make({})
    await h.log.append({ id: 'c', seq: 0, records: [started()] })
    await h.log.append({ id: 'a', seq: 0, records: [started(), completed()] })
    await h.log.append({ id: 'b', seq: 0, records: [started()] })
    assert.equal(await h.log.unfinished(), ['c', 'b'])
    await h.log.append({ id: 'c', seq: 1, records: [rec({ type: 'SagaStuck', step: 'x', error: { name: 'E', message: 'm' }, cause: { step: 'y', error: { name: 'E', message: 'n' } } })] })
    assert.equal(await h.log.unfinished(), ['b'])
    // A stuck saga that is retried is unfinished again.
    await h.log.append({ id: 'c', seq: 2, records: [rec({ type: 'SagaResumed', owner: 'n1', reason: 'retry' })] })
    assert.equal((await h.log.unfinished()).sort(), ['b', 'c'])
    await h.cleanup()
  })

  s('everything acknowledged survives a reopen', async () => {
    const h = await make({})
    for (let i = 0; i < 50; i++) await h.log.append({ id: `s${i % 7}`, seq: Math.floor(i / 7), records: [i < 7 ? started(i) : scheduled(`k${i}`)] })
    const before = await Promise.all(Array.from({ length: 7 }, (_, i) => h.log.read(`s${i}`)))
    const log = await h.reopen()
    const after = await Promise.all(Array.from({ length: 7 }, (_, i) => log.read(`s${i}`)))
    assert.equal(after, before)
    await log.append({ id: 's0', seq: before[0]!.length, records: [completed()] })
    assert.ok(isFinished((await log.read('s0'))!))
    await h.cleanup()
  })

  s('finished histories beyond retainFinished are forgotten, oldest first; unfinished ones never', async () => {
    const h = await make({ retainFinished: 2 })
    await h.log.append({ id: 'open', seq: 0, records: [started()] })
    for (const id of ['f1', 'f2', 'f3']) await h.log.append({ id, seq: 0, records: [started(), completed()] })
    assert.is(await h.log.read('f1'), null)
    assert.ok(await h.log.read('f2'))
    assert.ok(await h.log.read('f3'))
    assert.ok(await h.log.read('open'))
    const log = await h.reopen({ retainFinished: 2 })
    assert.is(await log.read('f1'), null)
    assert.ok(await log.read('f3'))
    assert.equal(await log.unfinished(), ['open'])
    await h.cleanup()
  })

  s('a closed log refuses with LOG_FAILED', async () => {
    const h = await make({})
    await h.log.close()
    const err = await h.log.append({ id: 'a', seq: 0, records: [started()] }).catch((e) => e)
    assert.ok(isSagaError(err, 'LOG_FAILED'), String(err))
    await h.cleanup()
  })

  return s
}
