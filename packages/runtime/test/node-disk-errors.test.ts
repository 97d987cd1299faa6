import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DiskError } from '@troupe/runtime'
import { NodeDisk, toDiskError } from '../src/node-disk.js'

const asRoot = process.getuid?.() === 0

function errno(code: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: something, open '${path}'`), { code, path })
}

async function failure(p: Promise<unknown>): Promise<DiskError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  )
  assert.ok(err instanceof DiskError, `a DiskError, got ${String(err)}`)
  return err as DiskError
}

test('a write into a data dir this process may not write to is NOT_WRITABLE and says so (not NOT_FOUND/ENOENT)', async () => {
  if (asRoot) return console.log('  (skipped: root ignores directory permissions; the mapping is tested below)')
  const base = await mkdtemp(join(tmpdir(), 'troupe-ro-'))
  await chmod(base, 0o555)
  try {
    const disk = new NodeDisk(join(base, 'data'))
    const err = await failure(disk.mkdir('wal'))
    assert.is(err.code, 'NOT_WRITABLE')
    assert.match(err.message, `data dir ${join(base, 'data')} is not writable`)
    assert.match(err.message, 'permission denied')
    const inside = new NodeDisk(base)
    const append = await failure(inside.appendDurable('seg-1', new Uint8Array([1])))
    assert.is(append.code, 'NOT_WRITABLE')
    await inside.close()
  } finally {
    await chmod(base, 0o755)
    await rm(base, { recursive: true, force: true })
  }
})

test('system errors map to what is wrong with the data dir', () => {
  const ro = toDiskError('append wal/seg-1', '/data', errno('EROFS', '/data/wal/seg-1'))
  assert.is(ro.code, 'NOT_WRITABLE')
  assert.ok(ro.message.startsWith('data dir /data is not writable (read-only file system) (/data/wal/seg-1)'), ro.message)
  assert.is((ro.cause as NodeJS.ErrnoException).code, 'EROFS')
  const denied = toDiskError('mkdir wal', '/data', errno('EACCES', '/data/wal'))
  assert.is(denied.code, 'NOT_WRITABLE')
  assert.match(denied.message, 'is not writable by this process (permission denied)')
  assert.is(toDiskError('write x', '/data', errno('EPERM', '/data/x')).code, 'NOT_WRITABLE')
  const unreadable = toDiskError('read x', '/data', errno('EACCES', '/data/x'))
  assert.is(unreadable.code, 'PERMISSION_DENIED')
  assert.match(unreadable.message, 'not readable')
  const missing = toDiskError('append wal/seg-1', '/data', errno('ENOENT', '/data/wal/seg-1'))
  assert.is(missing.code, 'NOT_FOUND')
  assert.match(missing.message, 'a directory on the way does not exist')
  assert.match(missing.message, 'make it with mkdir first')
  assert.is(toDiskError('write x', '/data', errno('ENOSPC', '/data/x')).code, 'IO_ERROR')
  assert.match(toDiskError('write x', '/data', errno('ENOSPC', '/data/x')).message, 'no space left')
  assert.is(toDiskError('write x', '/data', errno('EIO', '/data/x')).code, 'IO_ERROR')
  const already = new DiskError('INVALID_PATH', 'bad')
  assert.is(toDiskError('write x', '/data', already), already)
})

test('a write below a directory that does not exist is NOT_FOUND naming the missing directory', async () => {
  const base = await mkdtemp(join(tmpdir(), 'troupe-missing-'))
  try {
    const disk = new NodeDisk(base)
    const err = await failure(disk.append('nope/seg-1', new Uint8Array([1])))
    assert.is(err.code, 'NOT_FOUND')
    assert.match(err.message, `a directory on the way does not exist (${join(base, 'nope', 'seg-1')}) under data dir ${base}`)
    await disk.close()
  } finally {
    await rm(base, { recursive: true, force: true })
  }
})

test.run()
