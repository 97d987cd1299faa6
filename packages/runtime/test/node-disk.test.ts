import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { diskConformance } from '@troupe/testkit/conformance'
import { NodeDisk } from '../src/node-disk.js'

const root = await mkdtemp(join(tmpdir(), 'troupe-node-disk-'))
let n = 0
const conformance = diskConformance('NodeDisk', () => new NodeDisk(join(root, `d${n++}`), { maxOpenFiles: 2 }))
conformance.before.each(async (ctx) => {
  await ctx.disk.mkdir('')
})
conformance.run()
const pooled = diskConformance('NodeDisk, durable appends on the thread pool', () => new NodeDisk(join(root, `d${n++}`), { maxOpenFiles: 2, durableAppend: 'pool' }))
pooled.before.each(async (ctx) => {
  await ctx.disk.mkdir('')
})
pooled.run()

test('NodeDisk stays inside its root even when a sibling directory exists', async () => {
  const base = await mkdtemp(join(tmpdir(), 'troupe-node-disk-root-'))
  await writeFile(join(base, 'secret'), 'outside')
  const disk = new NodeDisk(join(base, 'inner'))
  await disk.mkdir('')
  try {
    await disk.read('../secret')
    assert.unreachable('read outside the root must fail')
  } catch (err) {
    assert.is((err as { code?: string }).code, 'INVALID_PATH')
  }
  await disk.close()
  await rm(base, { recursive: true, force: true })
})

test('NodeDisk appends through more files than maxOpenFiles keep every byte in order', async () => {
  const disk = new NodeDisk(join(root, 'lru'), { maxOpenFiles: 2 })
  await disk.mkdir('')
  const pending: Promise<void>[] = []
  for (let i = 0; i < 60; i++) pending.push(disk.append(`f${i % 5}`, new Uint8Array([i])))
  await Promise.all(pending)
  for (let f = 0; f < 5; f++) {
    const got = [...((await disk.read(`f${f}`)) ?? [])]
    assert.equal(got, Array.from({ length: 12 }, (_, k) => f + 5 * k))
  }
  await disk.close()
})

test.after(async () => {
  await rm(root, { recursive: true, force: true })
})

test.run()
