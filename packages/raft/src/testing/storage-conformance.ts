import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Entry, LogStorage, PersistedState, Snapshot } from '../storage.js'

/** A store under test and a way to restart it from what it made durable. */
export interface StorageHarness {
  store: LogStorage
  /** Closes the store and opens a new one over the same durable state (for disks: after a crash). */
  reopen(): Promise<LogStorage>
  cleanup(): Promise<void>
}

const config = { voters: ['a', 'b', 'c'], learners: [] }
const utf8 = new TextEncoder()

export function entry(index: number, term: number, text = `e${index}t${term}`, kind: Entry['kind'] = 'normal'): Entry {
  return { index, term, kind, data: utf8.encode(text) }
}

export function entries(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = []
  for (let i = from; i <= to; i++) out.push(entry(i, term))
  return out
}

export function snapshotAt(index: number, term: number, text = `state@${index}`): Snapshot {
  return { meta: { index, term, config }, data: utf8.encode(text) }
}

/** A comparable rendering of a persisted state (bytes as hex, fields in a fixed order). */
export function render(s: PersistedState): string {
  const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
  const { term, vote, commit } = s.hardState
  const snap = s.snapshot && {
    index: s.snapshot.meta.index,
    term: s.snapshot.meta.term,
    config: [s.snapshot.meta.config.voters, s.snapshot.meta.config.learners, s.snapshot.meta.config.votersOutgoing ?? null, s.snapshot.meta.config.learnersNext ?? null],
    data: hex(s.snapshot.data),
  }
  return JSON.stringify({ hard: [term, vote, commit], snap, entries: s.entries.map((e) => [e.index, e.term, e.kind, hex(e.data)]) })
}

function indexes(s: PersistedState): number[] {
  return s.entries.map((e) => e.index)
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string; name?: string }).code ?? (err as Error).name
  }
  return undefined
}

/**
 * The LogStorage contract, as one uvu suite every implementation runs.
 * Returns the suite; the caller runs it.
 */
export function storageConformance(name: string, makeHarness: () => Promise<StorageHarness>) {
  const test = suite<{ h: StorageHarness }>(`LogStorage conformance: ${name}`, { h: undefined as unknown as StorageHarness })
  test.before.each(async (ctx) => {
    ctx.h = await makeHarness()
  })
  test.after.each(async (ctx) => {
    await ctx.h.cleanup()
  })

  test('a new store loads empty', async ({ h }) => {
    const s = await h.store.load()
    assert.equal(s.hardState, { term: 0, vote: null, commit: 0 })
    assert.is(s.snapshot, null)
    assert.equal(s.entries, [])
  })

  test('synced entries, hard state and kinds survive a restart', async ({ h }) => {
    h.store.append([entry(1, 1, ''), entry(2, 1, 'cfg', 'config'), entry(3, 2, 'x'.repeat(3000))])
    h.store.setHardState({ term: 2, vote: 'b', commit: 2 })
    await h.store.sync()
    const before = { hardState: { term: 2, vote: 'b', commit: 2 }, snapshot: null, entries: [entry(1, 1, ''), entry(2, 1, 'cfg', 'config'), entry(3, 2, 'x'.repeat(3000))] }
    const store = await h.reopen()
    assert.is(render(await store.load()), render(before))
  })

  test('an append at or below the last index truncates the log from there', async ({ h }) => {
    h.store.append(entries(1, 5, 1))
    await h.store.sync()
    h.store.append(entries(3, 4, 2))
    h.store.append(entries(5, 5, 2)) // the last entry again, after the truncation
    h.store.append([entry(6, 3)])
    h.store.append([entry(6, 4)]) // and once more overwritten
    await h.store.sync()
    const s = await (await h.reopen()).load()
    assert.equal(indexes(s), [1, 2, 3, 4, 5, 6])
    assert.equal(s.entries.map((e) => e.term), [1, 1, 2, 2, 2, 4])
  })

  test('a gap, a non-contiguous batch or a term going down is a bug (InvariantError)', async ({ h }) => {
    h.store.append(entries(1, 3, 2))
    assert.is(codeOf(() => h.store.append([entry(5, 2)])), 'InvariantError')
    assert.is(codeOf(() => h.store.append([entry(4, 2), entry(6, 2)])), 'InvariantError')
    assert.is(codeOf(() => h.store.append([entry(4, 1)])), 'InvariantError')
    await h.store.sync()
    assert.equal(indexes(await (await h.reopen()).load()), [1, 2, 3], 'rejected appends changed nothing')
  })

  test('the latest hard state wins', async ({ h }) => {
    h.store.setHardState({ term: 1, vote: 'a', commit: 0 })
    h.store.setHardState({ term: 3, vote: null, commit: 0 })
    await h.store.sync()
    h.store.setHardState({ term: 4, vote: 'c', commit: 7 })
    await h.store.sync()
    assert.equal((await (await h.reopen()).load()).hardState, { term: 4, vote: 'c', commit: 7 })
  })

  test('a snapshot discards the entries it covers and keeps the rest', async ({ h }) => {
    h.store.append(entries(1, 10, 1))
    h.store.saveSnapshot(snapshotAt(6, 1))
    await h.store.sync()
    let store = await h.reopen()
    let s = await store.load()
    assert.equal(s.snapshot?.meta, snapshotAt(6, 1).meta)
    assert.equal(s.snapshot?.data, snapshotAt(6, 1).data)
    assert.equal(indexes(s), [7, 8, 9, 10])
    store.append(entries(11, 12, 1))
    store.saveSnapshot(snapshotAt(9, 1, 'later'))
    await store.sync()
    store = await h.reopen()
    s = await store.load()
    assert.is(s.snapshot?.meta.index, 9)
    assert.equal(s.snapshot?.data, snapshotAt(9, 1, 'later').data)
    assert.equal(indexes(s), [10, 11, 12])
  })

  test('a snapshot beyond the log, or disagreeing with it, discards every entry', async ({ h }) => {
    h.store.append(entries(1, 3, 1))
    h.store.saveSnapshot(snapshotAt(10, 2))
    await h.store.sync()
    let store = await h.reopen()
    assert.equal(indexes(await store.load()), [])
    store.append(entries(11, 12, 2))
    store.append(entries(13, 14, 3))
    store.saveSnapshot(snapshotAt(12, 3)) // entry 12 has term 2: 13 and 14 are another history
    await store.sync()
    store = await h.reopen()
    const s = await store.load()
    assert.is(s.snapshot?.meta.index, 12)
    assert.equal(indexes(s), [])
    store.append(entries(13, 13, 3))
    await store.sync()
    assert.equal(indexes(await (await h.reopen()).load()), [13], 'appends continue after the snapshot')
  })

  test('an older snapshot than the stored one is a bug', async ({ h }) => {
    h.store.append(entries(1, 5, 1))
    h.store.saveSnapshot(snapshotAt(4, 1))
    assert.is(codeOf(() => h.store.saveSnapshot(snapshotAt(3, 1))), 'InvariantError')
    await h.store.sync()
    assert.is((await (await h.reopen()).load()).snapshot?.meta.index, 4)
  })

  test('close makes buffered writes durable; a closed store refuses writes', async ({ h }) => {
    h.store.append(entries(1, 2, 1))
    h.store.setHardState({ term: 1, vote: 'a', commit: 1 })
    const old = h.store
    const store = await h.reopen()
    const s = await store.load()
    assert.equal(indexes(s), [1, 2])
    assert.equal(s.hardState, { term: 1, vote: 'a', commit: 1 })
    assert.is(codeOf(() => old.append([entry(3, 1)])), 'STORAGE_CLOSED')
  })

  test('sync with nothing buffered resolves; many syncs all resolve', async ({ h }) => {
    await h.store.sync()
    const syncs: Promise<void>[] = []
    for (let i = 1; i <= 20; i++) {
      h.store.append([entry(i, 1)])
      syncs.push(h.store.sync())
    }
    await Promise.all(syncs)
    assert.equal(indexes(await (await h.reopen()).load()), Array.from({ length: 20 }, (_, i) => i + 1))
  })

  test('a long log with compactions reloads exactly, several times', async ({ h }) => {
    let store = h.store
    let term = 1
    let last = 0
    const expected: Entry[] = []
    let snap: Snapshot | null = null
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 150; i++) {
        if (i % 37 === 0) term++
        const e = entry(++last, term, 'p'.repeat((last * 7) % 50))
        store.append([e])
        expected.push(e)
      }
      store.setHardState({ term, vote: 'a', commit: last - 10 })
      snap = snapshotAt(last - 20, expected[expected.length - 21]!.term, `snap${round}`)
      store.saveSnapshot(snap)
      await store.sync()
      store = await h.reopen()
      const want = { hardState: { term, vote: 'a', commit: last - 10 }, snapshot: snap, entries: expected.slice(-20) }
      assert.is(render(await store.load()), render(want), `round ${round}`)
    }
  })

  return test
}
