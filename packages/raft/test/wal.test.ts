import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SimDisk } from '@troupe/testkit'
import type { LogStorage } from '../src/storage.js'
import { MemoryLogStorage } from '../src/storage/memory-log-storage.js'
import type { WalOptions } from '../src/storage/wal-options.js'
import { WriteAheadLog } from '../src/storage/write-ahead-log.js'
import { entries, entry, render, snapshotAt } from '../src/testing.js'

const dir = 'wal'

async function rejectsWith(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p
  } catch (err) {
    assert.is((err as { code?: string }).code, code, String(err))
    return err as Error
  }
  assert.unreachable(`expected ${code}`)
  throw new Error('unreachable')
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

async function restart(disk: SimDisk, wal: WriteAheadLog, options: WalOptions = { dir }): Promise<WriteAheadLog> {
  await wal.close()
  disk.crash()
  return WriteAheadLog.open(disk, options)
}

test('groups interleaved in one log each reload exactly what an independent store holds', async () => {
  const disk = new SimDisk({ random: () => 0.3 })
  let wal = await WriteAheadLog.open(disk, { dir, segmentBytes: 2048, maxSegments: 3 })
  const ids = ['a', 'b', 'stock/x', 'ü 💡', 'e']
  const oracles = new Map(ids.map((id) => [id, new MemoryLogStorage()]))
  const last = new Map(ids.map((id) => [id, 0]))
  let k = 0
  for (let step = 0; step < 400; step++) {
    const id = ids[(step * 7 + (step >> 3)) % ids.length]!
    const both: LogStorage[] = [wal.group(id), oracles.get(id)!]
    const n = last.get(id)!
    if (step % 11 === 5 && n > 3) {
      for (const s of both) s.saveSnapshot(snapshotAt(n - 2, 1, `${id}@${n}`))
    } else if (step % 5 === 0) {
      for (const s of both) s.setHardState({ term: 1, vote: id, commit: n })
    } else {
      const from = step % 13 === 0 && n > 2 ? n - 1 : n + 1 // sometimes overwrite the tail
      const es = [entry(from, 1, `${id}:${k++}`), entry(from + 1, 1, `${id}:${k++}`)]
      for (const s of both) s.append(es)
      last.set(id, from + 1)
    }
    if (step % 3 === 0) await Promise.all(both.map((s) => s.sync()))
  }
  await Promise.all([...oracles.values()].map((s) => s.sync()))
  wal = await restart(disk, wal, { dir, segmentBytes: 2048, maxSegments: 3 })
  assert.equal(wal.groupIds(), [...ids].sort())
  for (const id of ids) {
    assert.is(render(await wal.group(id).load()), render(await oracles.get(id)!.load()), `group ${id}`)
  }
})

test('segments rotate, checkpoints delete old segments and snapshot files, and the state survives', async () => {
  const disk = new SimDisk({ random: () => 0.7 })
  const lines: string[] = []
  const options: WalOptions = { dir, segmentBytes: 1024, maxSegments: 3, log: (l) => lines.push(l) }
  let wal = await WriteAheadLog.open(disk, options)
  const store = wal.group('g')
  const oracle = new MemoryLogStorage()
  let last = 0
  const seen = new Set<string>()
  for (let round = 1; round <= 60; round++) {
    const es = Array.from({ length: 10 }, () => entry(++last, 1, 'v'.repeat(60)))
    for (const s of [store, oracle]) s.append(es)
    // Compaction keeps the live state small, so checkpoints reclaim space.
    for (const s of [store, oracle]) s.saveSnapshot(snapshotAt(last - 5, 1, `round ${round}`))
    await Promise.all([store.sync(), oracle.sync()])
    const names = (await disk.list(dir)).filter((n) => n.startsWith('wal-'))
    names.forEach((n) => seen.add(n))
    // Deletion follows the sync that made a checkpoint or snapshot durable, so one more may linger.
    assert.ok(names.length <= 4, `round ${round}: ${names.join(', ')}`)
    assert.ok((await disk.list(`${dir}/snap`)).length <= 2, 'superseded snapshot files are deleted')
  }
  await wal.close()
  assert.ok((await disk.list(dir)).filter((n) => n.startsWith('wal-')).length <= 3)
  assert.is((await disk.list(`${dir}/snap`)).length, 1)
  assert.ok(wal.stats.checkpoints >= 2, `checkpoints: ${wal.stats.checkpoints}`)
  assert.ok(seen.size > 10, `segments seen: ${seen.size}`)
  assert.ok(lines.some((l) => l.includes('checkpoint')))
  wal = await restart(disk, wal, options)
  assert.is(render(await wal.group('g').load()), render(await oracle.load()))
})

test('without snapshots a checkpoint would reclaim nothing: segments stay and the log says why', async () => {
  const disk = new SimDisk({ random: () => 0.1 })
  const lines: string[] = []
  let wal = await WriteAheadLog.open(disk, { dir, segmentBytes: 512, maxSegments: 2, log: (l) => lines.push(l) })
  const store = wal.group('g')
  for (let i = 1; i <= 40; i++) {
    store.append([entry(i, 1, 'x'.repeat(100))])
    await store.sync()
  }
  assert.is(wal.stats.checkpoints, 0)
  assert.ok(wal.stats.segments > 2)
  assert.ok(lines.some((l) => l.includes('no checkpoint until groups snapshot')))
  wal = await restart(disk, wal, { dir })
  assert.is((await wal.group('g').load()).entries.length, 40)
})

/** A log with three synced batches in its first segment, then closed. */
async function threeBatches(disk: SimDisk, more = false): Promise<void> {
  const wal = await WriteAheadLog.open(disk, { dir, segmentBytes: more ? 60 : 1 << 20 })
  const store = wal.group('g')
  for (let b = 0; b < (more ? 6 : 3); b++) {
    store.append(entries(b * 2 + 1, b * 2 + 2, 1))
    await store.sync()
  }
  await wal.close()
}

test('a corrupt record in the middle of the log is WAL_CORRUPT, never skipped', async () => {
  for (const offset of [40, 60, 75]) {
    const disk = new SimDisk({ random: () => 0.5 })
    await threeBatches(disk)
    disk.corrupt(`${dir}/wal-0000000000000001.log`, offset)
    await rejectsWith(WriteAheadLog.open(disk, { dir }), 'WAL_CORRUPT')
  }
})

test('a corrupt record at the end of a segment that is not the last is WAL_CORRUPT', async () => {
  const disk = new SimDisk({ random: () => 0.5 })
  await threeBatches(disk, true)
  const names = (await disk.list(dir)).filter((n) => n.startsWith('wal-'))
  assert.ok(names.length >= 3, names.join())
  const first = `${dir}/${names[0]}`
  const size = (await disk.read(first))!.byteLength
  disk.corrupt(first, size - 1)
  await rejectsWith(WriteAheadLog.open(disk, { dir }), 'WAL_CORRUPT')
})

test('a corrupt last record of the last segment is truncated and logged; earlier records stay', async () => {
  const disk = new SimDisk({ random: () => 0.5 })
  await threeBatches(disk)
  const path = `${dir}/wal-0000000000000001.log`
  const size = (await disk.read(path))!.byteLength
  disk.corrupt(path, size - 1)
  const lines: string[] = []
  const wal = await WriteAheadLog.open(disk, { dir, log: (l) => lines.push(l) })
  assert.equal((await wal.group('g').load()).entries.map((e) => e.index), [1, 2, 3, 4])
  assert.ok(lines.some((l) => l.includes('truncating torn tail')), lines.join('\n'))
  assert.ok((await disk.read(path))!.byteLength < size)
})

test('a missing segment or snapshot file is WAL_CORRUPT', async () => {
  const disk = new SimDisk({ random: () => 0.5 })
  await threeBatches(disk, true)
  const names = (await disk.list(dir)).filter((n) => n.startsWith('wal-'))
  assert.ok(names.length >= 3, names.join())
  await disk.remove(`${dir}/${names[1]}`)
  await rejectsWith(WriteAheadLog.open(disk, { dir }), 'WAL_CORRUPT')

  const disk2 = new SimDisk({ random: () => 0.5 })
  const wal = await WriteAheadLog.open(disk2, { dir })
  wal.group('g').append(entries(1, 3, 1))
  wal.group('g').saveSnapshot(snapshotAt(2, 1))
  await wal.close()
  const [snap] = await disk2.list(`${dir}/snap`)
  await disk2.remove(`${dir}/snap/${snap}`)
  await rejectsWith(WriteAheadLog.open(disk2, { dir }), 'WAL_CORRUPT')
})

test('a failed fdatasync fails that sync and every later one; acknowledged writes survive', async () => {
  const disk = new SimDisk({ random: () => 0.5, tornWrites: true })
  let wal = await WriteAheadLog.open(disk, { dir })
  const store = wal.group('g')
  store.append(entries(1, 2, 1))
  await store.sync()
  store.append(entries(3, 4, 1))
  disk.failNextSync()
  await rejectsWith(store.sync(), 'WAL_FAILED')
  store.append(entries(5, 5, 1))
  await rejectsWith(store.sync(), 'WAL_FAILED')
  disk.crash()
  wal = await WriteAheadLog.open(disk, { dir })
  const got = (await wal.group('g').load()).entries.map((e) => e.index)
  assert.equal(got.slice(0, 2), [1, 2])
})

test('an entry larger than maxRecordBytes is refused with RECORD_TOO_LARGE and changes nothing', async () => {
  const disk = new SimDisk({ random: () => 0.5 })
  let wal = await WriteAheadLog.open(disk, { dir, maxRecordBytes: 2048 })
  const store = wal.group('g')
  store.append([entry(1, 1)])
  assert.is(codeOf(() => store.append([entry(2, 1), entry(3, 1, 'x'.repeat(3000))])), 'RECORD_TOO_LARGE')
  store.append([entry(2, 1, 'ok')])
  await store.sync()
  wal = await restart(disk, wal, { dir, maxRecordBytes: 2048 })
  assert.equal((await wal.group('g').load()).entries.map((e) => e.index), [1, 2])
})

test('leftover temporary files are removed at open; a recovered snapshot loads after newer ones were saved', async () => {
  const disk = new SimDisk({ random: () => 0.5 })
  let wal = await WriteAheadLog.open(disk, { dir })
  wal.group('g').append(entries(1, 5, 1))
  wal.group('g').saveSnapshot(snapshotAt(3, 1, 'first'))
  await wal.close()
  await disk.write(`${dir}/wal-0000000000000009.ckpt.tmp`, new Uint8Array(10))
  await disk.write(`${dir}/snap/g.0000000000000004.1.snap.tmp`, new Uint8Array(10))
  await disk.write(`${dir}/snap/orphan.0000000000000001.1.snap`, new Uint8Array(10))
  wal = await WriteAheadLog.open(disk, { dir })
  assert.equal(await disk.list(dir), ['snap', 'wal-0000000000000001.log'])
  assert.equal(await disk.list(`${dir}/snap`), ['g.0000000000000003.1.snap'])
  const store = wal.group('g')
  store.saveSnapshot(snapshotAt(5, 1, 'second'))
  await store.sync()
  const loaded = await store.load()
  assert.equal(loaded.snapshot?.data, new TextEncoder().encode('first'), 'the state at open, from a file kept for it')
})

test('syncs made while a flush is in flight all join the next single flush', async () => {
  const gates: Array<() => void> = []
  let gated = false
  const disk = new SimDisk({ random: () => 0.5, delay: () => (gated ? new Promise<void>((r) => gates.push(r)) : Promise.resolve()) })
  const wal = await WriteAheadLog.open(disk, { dir })
  const stores = Array.from({ length: 10 }, (_, i) => wal.group(`g${i}`))
  stores[0]!.append([entry(1, 1)])
  await stores[0]!.sync() // segment 1 exists; what follows is one append + one sync per flush
  gated = true
  const before = { flushes: wal.stats.flushes, syncs: disk.syncs }
  stores[0]!.append([entry(2, 1)])
  const first = stores[0]!.sync()
  const turn = () => new Promise((r) => setImmediate(r))
  await turn() // the first flush is now waiting on the disk
  const joined = stores.map((s, i) => {
    s.append([entry(i === 0 ? 3 : 1, 1)])
    return s.sync()
  })
  while (disk.syncs - before.syncs < 2) {
    await turn()
    gates.splice(0).forEach((release) => release())
  }
  await Promise.all([first, ...joined])
  assert.is(wal.stats.flushes - before.flushes, 2)
  assert.is(disk.syncs - before.syncs, 2)
})

test('group commit: 1000 appends across 10 groups in one turn', async () => {
  const disk = new SimDisk({ random: () => 0.5 })
  let wal = await WriteAheadLog.open(disk, { dir })
  const stores = Array.from({ length: 10 }, (_, i) => wal.group(`group-${i}`))
  const before = { syncs: disk.syncs, flushes: wal.stats.flushes }
  const syncs: Promise<void>[] = []
  for (let i = 0; i < 1000; i++) {
    const store = stores[i % 10]!
    store.append([entry(Math.floor(i / 10) + 1, 1, `payload ${i}`)])
    syncs.push(store.sync())
  }
  await Promise.all(syncs)
  console.log(`  group commit: 1000 appends + 1000 sync() calls over 10 groups in one turn -> ${disk.syncs - before.syncs} fdatasync, ${wal.stats.flushes - before.flushes} flush`)
  disk.crash()
  wal = await WriteAheadLog.open(disk, { dir })
  for (let g = 0; g < 10; g++) assert.is((await wal.group(`group-${g}`).load()).entries.length, 100)
})

test.run()
