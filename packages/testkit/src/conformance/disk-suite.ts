import type { Disk } from '@troupe/runtime'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b))

async function rejectsWith(promise: () => Promise<unknown>, code: string, what: string): Promise<void> {
  try {
    await promise()
  } catch (err) {
    assert.is((err as { code?: string }).code, code, `${what}: ${String(err)}`)
    return
  }
  assert.unreachable(`${what} should reject with ${code}`)
}

const badPaths = ['../x', '/abs', 'a/../b', 'a//b', './a', 'a/', 'a\\b', 'a\0b', '..']

/**
 * The contract every `Disk` keeps, as one uvu suite. Returns the suite; the
 * caller runs it. `makeDisk` gives a fresh, empty disk for each test (it is
 * closed afterwards).
 */
export function diskConformance(name: string, makeDisk: () => Disk | Promise<Disk>) {
  const test = suite<{ disk: Disk }>(`Disk conformance: ${name}`, { disk: undefined as unknown as Disk })
  test.before.each(async (ctx) => {
    ctx.disk = await makeDisk()
  })
  test.after.each(async (ctx) => {
    await ctx.disk.close()
  })

  test('read of a missing file is null; write then read gives the bytes back', async ({ disk }) => {
    assert.is(await disk.read('f'), null)
    await disk.write('f', bytes('hello'))
    assert.is(text(await disk.read('f')), 'hello')
    await disk.write('f', bytes('bye'))
    assert.is(text(await disk.read('f')), 'bye', 'write replaces the whole file')
    await disk.write('empty', new Uint8Array(0))
    assert.equal(await disk.read('empty'), new Uint8Array(0))
  })

  test('append creates the file and appends in call order', async ({ disk }) => {
    await disk.append('log', bytes('a'))
    await disk.append('log', bytes('bc'))
    assert.is(text(await disk.read('log')), 'abc')
    await disk.write('log', bytes('X'))
    await disk.append('log', bytes('Y'))
    assert.is(text(await disk.read('log')), 'XY', 'append after write goes to the new end')
    const pending: Promise<void>[] = []
    for (let i = 0; i < 50; i++) pending.push(disk.append('many', bytes(`${i},`)))
    await Promise.all(pending)
    const expected = Array.from({ length: 50 }, (_, i) => `${i},`).join('')
    assert.is(text(await disk.read('many')), expected, 'un-awaited appends land in call order')
  })

  test('appendDurable appends in call order with append, and creates the file', async ({ disk }) => {
    assert.ok(disk.appendDurable, 'this disk has appendDurable')
    await disk.appendDurable!('d', bytes('a'))
    assert.is(text(await disk.read('d')), 'a')
    const pending = [disk.append('d', bytes('b')), disk.appendDurable!('d', bytes('c')), disk.append('d', bytes('d'))]
    await Promise.all(pending)
    assert.is(text(await disk.read('d')), 'abcd', 'un-awaited appends and durable appends land in call order')
    await rejectsWith(() => disk.appendDurable!('no-dir/x', bytes('e')), 'NOT_FOUND', 'appendDurable into a missing directory')
  })

  test('truncate shortens; a later append continues at the new end', async ({ disk }) => {
    await disk.append('t', bytes('abcdef'))
    await disk.truncate('t', 2)
    assert.is(text(await disk.read('t')), 'ab')
    await disk.append('t', bytes('Z'))
    assert.is(text(await disk.read('t')), 'abZ')
    await disk.truncate('t', 0)
    assert.equal(await disk.read('t'), new Uint8Array(0))
    await rejectsWith(() => disk.truncate('missing', 0), 'NOT_FOUND', 'truncate of a missing file')
  })

  test('rename moves a file and replaces an existing target', async ({ disk }) => {
    await disk.write('a', bytes('A'))
    await disk.write('b', bytes('B'))
    await disk.rename('a', 'b')
    assert.is(await disk.read('a'), null)
    assert.is(text(await disk.read('b')), 'A')
    await disk.append('b', bytes('+'))
    assert.is(text(await disk.read('b')), 'A+', 'append after rename goes to the renamed file')
    await rejectsWith(() => disk.rename('nope', 'c'), 'NOT_FOUND', 'rename of a missing file')
  })

  test('mkdir makes parents, is idempotent, and list gives sorted names', async ({ disk }) => {
    assert.equal(await disk.list('d'), [])
    await disk.mkdir('d/e/f')
    await disk.mkdir('d/e/f')
    await disk.mkdir('d')
    await disk.write('d/z', bytes('1'))
    await disk.write('d/a', bytes('2'))
    await disk.append('d/m', bytes('3'))
    assert.equal(await disk.list('d'), ['a', 'e', 'm', 'z'])
    assert.equal(await disk.list('d/e'), ['f'])
    assert.equal(await disk.list('d/e/f'), [])
    assert.ok((await disk.list('')).includes('d'), 'the root is listed with ""')
    await rejectsWith(() => disk.write('nodir/f', bytes('x')), 'NOT_FOUND', 'write into a missing directory')
    await rejectsWith(() => disk.append('nodir/f', bytes('x')), 'NOT_FOUND', 'append into a missing directory')
  })

  test('remove deletes a file; removing a missing file is not an error', async ({ disk }) => {
    await disk.write('r', bytes('x'))
    await disk.remove('r')
    assert.is(await disk.read('r'), null)
    assert.equal(await disk.list(''), [])
    await disk.remove('r')
    await disk.append('r', bytes('new'))
    assert.is(text(await disk.read('r')), 'new', 'a removed name can be created again')
  })

  test('sync and syncDir succeed on what exists and reject what does not', async ({ disk }) => {
    await disk.mkdir('s')
    await disk.append('s/f', bytes('data'))
    await disk.sync('s/f')
    await disk.syncDir('s')
    await disk.syncDir('')
    await disk.write('s/g', bytes('w'))
    await disk.sync('s/g')
    assert.is(text(await disk.read('s/f')), 'data')
    await rejectsWith(() => disk.sync('s/missing'), 'NOT_FOUND', 'sync of a missing file')
    await rejectsWith(() => disk.syncDir('missing'), 'NOT_FOUND', 'syncDir of a missing directory')
  })

  test('paths that could leave the root are rejected with INVALID_PATH', async ({ disk }) => {
    for (const p of badPaths) {
      await rejectsWith(() => disk.read(p), 'INVALID_PATH', `read ${JSON.stringify(p)}`)
      await rejectsWith(() => disk.write(p, bytes('x')), 'INVALID_PATH', `write ${JSON.stringify(p)}`)
      await rejectsWith(() => disk.append(p, bytes('x')), 'INVALID_PATH', `append ${JSON.stringify(p)}`)
      await rejectsWith(() => disk.truncate(p, 0), 'INVALID_PATH', `truncate ${JSON.stringify(p)}`)
      await rejectsWith(() => disk.sync(p), 'INVALID_PATH', `sync ${JSON.stringify(p)}`)
      await rejectsWith(() => disk.remove(p), 'INVALID_PATH', `remove ${JSON.stringify(p)}`)
      await rejectsWith(() => disk.rename('ok', p), 'INVALID_PATH', `rename to ${JSON.stringify(p)}`)
      await rejectsWith(() => disk.rename(p, 'ok'), 'INVALID_PATH', `rename from ${JSON.stringify(p)}`)
      await rejectsWith(() => disk.mkdir(p), 'INVALID_PATH', `mkdir ${JSON.stringify(p)}`)
      await rejectsWith(() => disk.list(p), 'INVALID_PATH', `list ${JSON.stringify(p)}`)
      await rejectsWith(() => disk.syncDir(p), 'INVALID_PATH', `syncDir ${JSON.stringify(p)}`)
    }
    await rejectsWith(() => disk.read(''), 'INVALID_PATH', 'read of the empty path')
    await rejectsWith(() => disk.write('', bytes('x')), 'INVALID_PATH', 'write of the empty path')
    assert.equal(await disk.list(''), [], 'nothing was created by a rejected call')
  })

  test('close waits for queued operations', async ({ disk }) => {
    const pending = [disk.append('c', bytes('1')), disk.append('c', bytes('2'))]
    await disk.close()
    await Promise.all(pending)
    assert.is(text(await disk.read('c')), '12')
  })

  return test
}
