import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NodeDisk } from '@troupe/runtime'
import { SimDisk } from '@troupe/testkit'
import type { LogStorage } from '../src/storage.js'
import { MemoryLogStorage } from '../src/storage/memory-log-storage.js'
import type { WalOptions } from '../src/storage/wal-options.js'
import { WriteAheadLog } from '../src/storage/write-ahead-log.js'
import { storageConformance, type StorageHarness } from '../src/testing.js'

storageConformance('MemoryLogStorage', async () => {
  let store = new MemoryLogStorage()
  const h: StorageHarness = {
    store,
    async reopen() {
      await store.close()
      store = store.reopen()
      return (h.store = store)
    },
    async cleanup() {},
  }
  return h
}).run()

/** A WAL over a SimDisk; every reopen is a clean close followed by a power loss. */
function simWal(name: string, options: Omit<WalOptions, 'dir'>) {
  storageConformance(name, async () => {
    const disk = new SimDisk({ random: () => 0.5, tornWrites: true })
    const walOptions = { dir: 'node/wal', ...options }
    let wal = await WriteAheadLog.open(disk, walOptions)
    const h: StorageHarness = {
      store: wal.group('g'),
      async reopen() {
        await h.store.close()
        await wal.close()
        disk.crash()
        wal = await WriteAheadLog.open(disk, walOptions)
        return (h.store = wal.group('g'))
      },
      async cleanup() {
        await wal.close()
      },
    }
    return h
  }).run()
}

simWal('WalLogStorage on SimDisk', {})
simWal('WalLogStorage on SimDisk, tiny segments', { segmentBytes: 300, maxSegments: 2, maxBatchBytes: 200 })

const root = await mkdtemp(join(tmpdir(), 'troupe-wal-'))
let n = 0
const nodeSuite = storageConformance('WalLogStorage on NodeDisk', async () => {
  const disk = new NodeDisk(join(root, `n${n++}`))
  let wal = await WriteAheadLog.open(disk, { dir: 'wal', segmentBytes: 4096 })
  const h: StorageHarness = {
    store: wal.group('g') as LogStorage,
    async reopen() {
      await h.store.close()
      await wal.close()
      await disk.close()
      wal = await WriteAheadLog.open(disk, { dir: 'wal', segmentBytes: 4096 })
      return (h.store = wal.group('g'))
    },
    async cleanup() {
      await wal.close()
      await disk.close()
    },
  }
  return h
})
nodeSuite.after(async () => {
  await rm(root, { recursive: true, force: true })
})
nodeSuite.run()
