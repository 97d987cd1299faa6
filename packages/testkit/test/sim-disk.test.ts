import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { diskConformance } from '../src/conformance/disk-suite.js'
import { SimDisk } from '../src/sim-disk.js'

/** mulberry32: a tiny seeded PRNG so every run is the same. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b))

diskConformance('SimDisk', () => new SimDisk({ random: prng(1) })).run()
diskConformance('SimDisk with latency', () => {
  const random = prng(2)
  // Random numbers of microtask hops reorder operations on different paths.
  const delay = async () => {
    for (let i = Math.floor(random() * 4); i > 0; i--) await null
  }
  return new SimDisk({ random, delay, tornWrites: true })
}).run()

async function durableFile(dir = ''): Promise<SimDisk> {
  const disk = new SimDisk({ random: prng(3) })
  if (dir) await disk.mkdir(dir)
  await disk.syncDir('')
  return disk
}

test('crash loses unsynced content and keeps synced content', async () => {
  const disk = await durableFile()
  await disk.append('f', bytes('synced'))
  await disk.sync('f')
  await disk.syncDir('')
  await disk.append('f', bytes('+lost'))
  assert.is(text(await disk.read('f')), 'synced+lost', 'visible before the crash')
  disk.crash()
  assert.is(text(await disk.read('f')), 'synced')
})

test('a new file is lost on crash until its directory is synced, even if its data was synced', async () => {
  const disk = await durableFile('d')
  await disk.append('d/f', bytes('x'))
  await disk.sync('d/f')
  disk.crash()
  assert.is(await disk.read('d/f'), null)
  await disk.append('d/f', bytes('x'))
  await disk.sync('d/f')
  await disk.syncDir('d')
  disk.crash()
  assert.is(text(await disk.read('d/f')), 'x')
})

test('a directory made by mkdir is lost on crash until its parent is synced', async () => {
  const disk = new SimDisk({ random: prng(4) })
  await disk.mkdir('a/b')
  await disk.append('a/b/f', bytes('x'))
  await disk.sync('a/b/f')
  await disk.syncDir('a/b')
  await disk.syncDir('a')
  disk.crash()
  assert.equal(await disk.list(''), [], 'a was never made durable in the root')
  await disk.mkdir('a/b')
  await disk.append('a/b/f', bytes('x'))
  await disk.sync('a/b/f')
  await disk.syncDir('a/b')
  await disk.syncDir('a')
  await disk.syncDir('')
  disk.crash()
  assert.is(text(await disk.read('a/b/f')), 'x')
})

test('rename and remove are durable only after syncDir', async () => {
  const disk = await durableFile()
  await disk.write('tmp', bytes('new'))
  await disk.sync('tmp')
  await disk.write('target', bytes('old'))
  await disk.sync('target')
  await disk.syncDir('')
  await disk.rename('tmp', 'target')
  assert.is(text(await disk.read('target')), 'new')
  disk.crash()
  assert.is(text(await disk.read('target')), 'old', 'rename not durable without syncDir')
  assert.is(text(await disk.read('tmp')), 'new')
  await disk.rename('tmp', 'target')
  await disk.syncDir('')
  disk.crash()
  assert.is(text(await disk.read('target')), 'new')
  assert.is(await disk.read('tmp'), null)
  await disk.remove('target')
  disk.crash()
  assert.is(text(await disk.read('target')), 'new', 'remove not durable without syncDir')
  await disk.remove('target')
  await disk.syncDir('')
  disk.crash()
  assert.is(await disk.read('target'), null)
})

test('write and truncate of a synced file are undone by a crash', async () => {
  const disk = await durableFile()
  await disk.append('f', bytes('abcdef'))
  await disk.sync('f')
  await disk.syncDir('')
  await disk.truncate('f', 2)
  await disk.append('f', bytes('XY'))
  disk.crash()
  assert.is(text(await disk.read('f')), 'abcdef')
  await disk.write('f', bytes('replaced'))
  disk.crash()
  assert.is(text(await disk.read('f')), 'abcdef')
  await disk.write('f', bytes('replaced'))
  await disk.sync('f')
  disk.crash()
  assert.is(text(await disk.read('f')), 'replaced')
})

test('torn writes keep a prefix of the unsynced appends, and every length occurs', async () => {
  const lengths = new Set<number>()
  for (let seed = 0; seed < 200; seed++) {
    const disk = new SimDisk({ random: prng(seed), tornWrites: true })
    await disk.append('f', bytes('base'))
    await disk.sync('f')
    await disk.syncDir('')
    await disk.append('f', bytes('12'))
    await disk.append('f', bytes('345'))
    disk.crash()
    const got = text(await disk.read('f'))!
    assert.ok('base12345'.startsWith(got) && got.startsWith('base'), `seed ${seed}: ${got}`)
    lengths.add(got.length)
  }
  assert.equal([...lengths].sort((a, b) => a - b), [4, 5, 6, 7, 8, 9])
})

test('appendDurable: once it resolves its bytes survive a crash; a crash before its sync may tear them', async () => {
  const disk = await durableFile()
  await disk.appendDurable('f', bytes('base'))
  await disk.syncDir('')
  disk.crash()
  assert.is(text(await disk.read('f')), 'base')
  const lengths = new Set<number>()
  for (let seed = 0; seed < 100; seed++) {
    const gates: Array<() => void> = []
    const torn = new SimDisk({ random: prng(seed), tornWrites: true, delay: () => new Promise<void>((r) => gates.push(r)) })
    const step = async () => {
      while (gates.length === 0) await new Promise((r) => setImmediate(r))
      gates.shift()!()
    }
    const setup = (async () => {
      await torn.appendDurable('f', bytes('base'))
      await torn.syncDir('')
    })()
    for (let i = 0; i < 3; i++) await step() // append, sync, syncDir
    await setup
    void torn.appendDurable('f', bytes('123'))
    await step() // the append runs; its sync waits at the gate
    await new Promise((r) => setImmediate(r))
    torn.crash()
    gates.splice(0) // the sync that was cut off stays pending forever
    const read = torn.read('f')
    await step()
    const got = text(await read)!
    assert.ok('base123'.startsWith(got) && got.startsWith('base'), `seed ${seed}: ${got}`)
    lengths.add(got.length)
  }
  assert.equal([...lengths].sort((a, b) => a - b), [4, 5, 6, 7])
})

test('without tornWrites nothing unsynced survives', async () => {
  for (let seed = 0; seed < 20; seed++) {
    const disk = new SimDisk({ random: prng(seed) })
    await disk.append('f', bytes('base'))
    await disk.sync('f')
    await disk.syncDir('')
    await disk.append('f', bytes('tail'))
    disk.crash()
    assert.is(text(await disk.read('f')), 'base')
  }
})

test('an operation in flight at a crash never applies and never settles', async () => {
  const gates: Array<() => void> = []
  const disk = new SimDisk({ random: prng(5), delay: () => new Promise<void>((r) => gates.push(r)) })
  const turn = () => new Promise((r) => setImmediate(r))
  const releaseNext = async () => {
    await turn()
    gates.shift()!()
    await turn()
  }
  const ready = disk.syncDir('')
  await releaseNext()
  await ready
  let settled = false
  void disk.append('f', bytes('zombie')).then(
    () => (settled = true),
    () => (settled = true),
  )
  await turn()
  disk.crash()
  await releaseNext()
  assert.is(settled, false)
  const read = disk.read('f')
  await releaseNext()
  assert.is(await read, null)
})

test('failNextSync and failSyncProbability make sync reject and keep nothing durable', async () => {
  const disk = await durableFile()
  await disk.append('f', bytes('a'))
  disk.failNextSync('other')
  await disk.sync('f')
  await disk.syncDir('')
  await disk.append('f', bytes('b'))
  disk.failNextSync()
  try {
    await disk.sync('f')
    assert.unreachable('sync should fail')
  } catch (err) {
    assert.is((err as { code?: string }).code, 'IO_ERROR')
  }
  disk.crash()
  assert.is(text(await disk.read('f')), 'a')
  const always = new SimDisk({ random: prng(6), failSyncProbability: 1 })
  await always.append('g', bytes('x'))
  try {
    await always.sync('g')
    assert.unreachable('sync should fail')
  } catch (err) {
    assert.is((err as { code?: string }).code, 'IO_ERROR')
  }
  assert.is(always.syncs, 0)
})

test('counters count successful syncs and bytes written', async () => {
  const disk = await durableFile()
  await disk.append('f', bytes('abc'))
  await disk.write('g', bytes('de'))
  await disk.sync('f')
  await disk.sync('g')
  assert.is(disk.syncs, 2)
  assert.is(disk.dirSyncs, 1)
  assert.is(disk.bytesWritten, 5)
})

test('corrupt flips a byte in both the visible and the durable content', async () => {
  const disk = await durableFile()
  await disk.append('f', new Uint8Array([1, 2, 3]))
  await disk.sync('f')
  await disk.syncDir('')
  disk.corrupt('f', 1)
  assert.equal([...(await disk.read('f'))!], [1, 0xfd, 3])
  disk.crash()
  assert.equal([...(await disk.read('f'))!], [1, 0xfd, 3])
})

test.run()
