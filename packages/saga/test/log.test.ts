import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as assert from 'uvu/assert'
import { test } from 'uvu'
import { NodeDisk } from '@troupe/runtime'
import { SimDisk } from '@troupe/testkit'
import { FileSagaLog, MemorySagaLog } from '../src/index.js'
import type { FileSagaLogOptions, SagaLog } from '../src/index.js'
import { fenced } from './fenced.js'
import { completed, sagaLogConformance, scheduled, started } from './log-suite.js'
import type { LogHarness } from './log-suite.js'

sagaLogConformance('MemorySagaLog', async (options) => {
  let log = new MemorySagaLog(options)
  const h: LogHarness = {
    log,
    async reopen() {
      await log.close()
      return (h.log = log = log.reopen())
    },
    async cleanup() {},
  }
  return h
}).run()

/** A file log on a SimDisk; every reopen is a close followed by a power loss. */
function simFile(name: string, extra: Partial<FileSagaLogOptions>) {
  sagaLogConformance(name, async (options) => {
    const disk = new SimDisk({ random: () => 0.5, tornWrites: true })
    let log = await FileSagaLog.open(disk, { dir: 'sagas', ...extra, ...options })
    const h: LogHarness = {
      log,
      async reopen(again) {
        await log.close().catch(() => undefined)
        disk.crash()
        return (h.log = log = await FileSagaLog.open(disk, { dir: 'sagas', ...extra, ...again }))
      },
      async cleanup() {
        await log.close().catch(() => undefined)
      },
    }
    return h
  }).run()
}

simFile('FileSagaLog on SimDisk', {})
simFile('FileSagaLog on SimDisk, snapshot every 3 appends, tiny segments', { snapshotEveryAppends: 3, wal: { segmentBytes: 400, maxSegments: 2 } })

const root = await mkdtemp(join(tmpdir(), 'troupe-saga-log-'))
let n = 0
const nodeSuite = sagaLogConformance('FileSagaLog on NodeDisk', async (options) => {
  const disk = new NodeDisk(join(root, `n${n++}`))
  let log: SagaLog = await FileSagaLog.open(disk, { dir: 'sagas', ...options })
  const h: LogHarness = {
    log,
    async reopen(again) {
      await log.close()
      return (h.log = log = await FileSagaLog.open(disk, { dir: 'sagas', ...again }))
    },
    async cleanup() {
      await log.close().catch(() => undefined)
      await disk.close()
    },
  }
  return h
})
nodeSuite.after(async () => {
  await rm(root, { recursive: true, force: true })
})
nodeSuite.run()

test('FileSagaLog: an append resolves only after fdatasync; appends in one turn share one', async () => {
  const disk = new SimDisk({ random: () => 0.5 })
  const log = await FileSagaLog.open(disk, { dir: 'sagas' })
  const syncsBefore = disk.syncs
  await Promise.all(Array.from({ length: 20 }, (_, i) => log.append({ id: `s${i}`, seq: 0, records: [started()] })))
  const used = disk.syncs - syncsBefore
  assert.ok(used >= 1 && used <= 2, `20 appends in one turn used ${used} fdatasyncs`)
  disk.crash()
  const again = await FileSagaLog.open(disk, { dir: 'sagas' })
  assert.is((await again.unfinished()).length, 20)
})

test('FileSagaLog: a failed fdatasync fails the append and every later call (LOG_FAILED)', async () => {
  const disk = new SimDisk({ random: () => 0.5 })
  const log = await FileSagaLog.open(disk, { dir: 'sagas' })
  await log.append({ id: 'a', seq: 0, records: [started()] })
  disk.failNextSync()
  const err = await log.append({ id: 'a', seq: 1, records: [scheduled('x')] }).catch((e) => e)
  assert.is(err?.code, 'LOG_FAILED')
  const later = await log.read('a').catch((e) => e)
  assert.is(later?.code, 'LOG_FAILED')
  disk.crash()
  const again = await FileSagaLog.open(disk, { dir: 'sagas' })
  const history = await again.read('a')
  assert.ok(history && history.length <= 2, 'the unacknowledged record may or may not be there; nothing else is')
  assert.is(history?.[0].type, 'SagaStarted')
})

test('FileSagaLog: torn tails at every crash point recover to a prefix that holds every acknowledged append', async () => {
  for (let seed = 1; seed <= 30; seed++) {
    let x = seed
    const random = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648)
    const disk = new SimDisk({ random, tornWrites: true })
    const first = fenced(disk)
    const log = await FileSagaLog.open(first.disk, { dir: 'sagas', snapshotEveryAppends: 5 })
    let acked = 0
    const total = 3 + (seed % 11)
    const pending: Promise<void>[] = []
    for (let i = 0; i < total; i++) {
      const p = log.append({ id: 'h', seq: i, records: [i === 0 ? started() : i === total - 1 ? completed() : scheduled(`s${i}`)] }).then(() => void acked++)
      pending.push(p)
      if (random() < 0.5) await p
    }
    first.fence()
    disk.crash() // some appends may be in flight: not acknowledged, maybe torn
    const again = await FileSagaLog.open(disk, { dir: 'sagas' })
    const history = (await again.read('h')) ?? []
    assert.ok(history.length >= acked, `seed ${seed}: ${history.length} records after recovery, ${acked} acknowledged`)
    history.forEach((r, i) => assert.is(r.type, i === 0 ? 'SagaStarted' : i === total - 1 ? 'SagaCompleted' : 'StepScheduled'))
  }
})

test.run()
