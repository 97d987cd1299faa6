import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SimDisk } from '@troupe/testkit'
import type { Entry, HardState, LogStorage, PersistedState, Snapshot } from '../src/storage.js'
import type { WalOptions } from '../src/storage/wal-options.js'
import { WriteAheadLog } from '../src/storage/write-ahead-log.js'
import { render } from '../src/testing.js'

/**
 * Crash torture: random writes from several groups, syncs, disk I/O that
 * completes in random order, and power losses at random points with torn
 * writes (and, for some seeds, failing fdatasyncs). After every crash the log
 * must reopen to the state after some prefix of the writes that includes
 * every write acknowledged by a resolved sync(). WAL_SEEDS=n runs more seeds;
 * WAL_SEED=n replays one.
 */

/** mulberry32 */
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

const groupIds = ['g0', 'g1', 'stock/a']
const config = { voters: ['a', 'b', 'c'], learners: [] }
const utf8 = new TextEncoder()

type Write =
  | { group: string; kind: 'entries'; entries: Entry[] }
  | { group: string; kind: 'hardState'; state: HardState }
  | { group: string; kind: 'snapshot'; snapshot: Snapshot }

/** An independent model of one group's durable state (not the code under test). */
interface Model {
  hardState: HardState
  snapshot: Snapshot | null
  entries: Entry[]
}

const emptyModel = (): Model => ({ hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] })
const cloneModel = (m: Model): Model => ({ hardState: m.hardState, snapshot: m.snapshot, entries: m.entries.slice() })
const lastIndex = (m: Model) => m.entries.at(-1)?.index ?? m.snapshot?.meta.index ?? 0
const lastTerm = (m: Model) => m.entries.at(-1)?.term ?? m.snapshot?.meta.term ?? 0

function applyWrite(m: Model, w: Write): void {
  if (w.kind === 'hardState') m.hardState = w.state
  else if (w.kind === 'entries') {
    const from = w.entries[0]!.index
    m.entries = m.entries.filter((e) => e.index < from).concat(w.entries)
  } else {
    const { index, term } = w.snapshot.meta
    const at = m.entries.find((e) => e.index === index)
    m.entries = at && at.term === term ? m.entries.filter((e) => e.index > index) : []
    m.snapshot = w.snapshot
  }
}

function randomWrite(rnd: () => number, models: Map<string, Model>, terms: Map<string, number>): Write {
  const group = groupIds[Math.floor(rnd() * groupIds.length)]!
  const m = models.get(group)!
  if (rnd() < 0.15) terms.set(group, terms.get(group)! + 1)
  const term = Math.max(terms.get(group)!, lastTerm(m))
  terms.set(group, term)
  const r = rnd()
  const last = lastIndex(m)
  const first = (m.snapshot?.meta.index ?? 0) + 1
  if (r < 0.6) {
    // Usually extend the log; sometimes overwrite its tail (a conflict).
    const from = rnd() < 0.25 ? Math.max(first, last - Math.floor(rnd() * 3)) : last + 1
    const newTerm = from <= last ? term + 1 : term
    if (newTerm !== term) terms.set(group, newTerm)
    const count = 1 + Math.floor(rnd() * 4)
    const entries: Entry[] = []
    for (let i = 0; i < count; i++) {
      const size = Math.floor(rnd() * 60)
      entries.push({ index: from + i, term: newTerm, kind: rnd() < 0.1 ? 'config' : 'normal', data: utf8.encode('d'.repeat(size) + (from + i)) })
    }
    return { group, kind: 'entries', entries }
  }
  if (r < 0.85 || last < first) {
    const vote = rnd() < 0.3 ? null : ['a', 'b', 'c'][Math.floor(rnd() * 3)]!
    return { group, kind: 'hardState', state: { term, vote, commit: Math.floor(rnd() * (last + 1)) } }
  }
  // A compaction inside the log, or now and then a snapshot from a leader beyond it.
  const beyond = rnd() < 0.2
  const index = beyond ? last + 1 + Math.floor(rnd() * 3) : first + Math.floor(rnd() * (last - first + 1))
  const snapTerm = beyond ? term : m.entries.find((e) => e.index === index)!.term
  const snapshot = { meta: { index, term: snapTerm, config }, data: utf8.encode(`${group}@${index}:${rnd()}`) }
  return { group, kind: 'snapshot', snapshot }
}

function applyToStore(store: LogStorage, w: Write): void {
  if (w.kind === 'entries') store.append(w.entries)
  else if (w.kind === 'hardState') store.setHardState(w.state)
  else store.saveSnapshot(w.snapshot)
}

const renderModel = (m: Model) => render(m as PersistedState)

/** The first prefix length >= minPrefix of `writes` whose state matches every group's recovered state. */
function matchingPrefix(base: Map<string, Model>, writes: Write[], minPrefix: number, recovered: Map<string, string>): number {
  const models = new Map([...base].map(([id, m]) => [id, cloneModel(m)]))
  for (let j = 0; j <= writes.length; j++) {
    if (j >= minPrefix && groupIds.every((id) => renderModel(models.get(id)!) === recovered.get(id))) return j
    if (j < writes.length) applyWrite(models.get(writes[j]!.group)!, writes[j]!)
  }
  return -1
}

async function runSeed(seed: number): Promise<{ crashes: number; acked: number; tornTails: number; checkpoints: number }> {
  const rnd = prng(seed)
  const gates: Array<() => void> = []
  const disk = new SimDisk({
    random: prng(seed * 7919 + 1),
    tornWrites: true,
    failSyncProbability: seed % 3 === 2 ? 0.03 : 0,
    delay: () => new Promise<void>((resolve) => gates.push(resolve)),
  })
  const lines: string[] = []
  const options: WalOptions = { dir: 'node/wal', segmentBytes: 400 + Math.floor(rnd() * 800), maxSegments: 2 + Math.floor(rnd() * 3), maxBatchBytes: 300 + Math.floor(rnd() * 2000), log: (l) => lines.push(l) }
  const turn = () => new Promise<void>((r) => setImmediate(r))
  /** Runs the disk (completing I/O in random order) until `p` settles. */
  async function drive<T>(p: Promise<T>): Promise<T> {
    let state: { ok: true; value: T } | { ok: false; error: unknown } | null = null
    p.then(
      (value) => (state = { ok: true, value }),
      (error) => (state = { ok: false, error }),
    )
    for (let idle = 0; state === null; ) {
      await turn()
      if (gates.length > 0) gates.splice(Math.floor(rnd() * gates.length), 1)[0]!()
      else if (++idle > 10) throw new Error(`seed ${seed}: stuck waiting for the disk`)
    }
    const s = state as { ok: true; value: T } | { ok: false; error: unknown }
    if (!s.ok) throw s.error
    return s.value
  }

  /** Recovery itself syncs, so an injected sync failure can fail an open: a restart tries again. */
  async function openWithRetries(): Promise<WriteAheadLog> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await drive(WriteAheadLog.open(disk, options))
      } catch (err) {
        if ((err as { code?: string }).code !== 'IO_ERROR' || attempt === 20) throw err
      }
    }
  }

  let base = new Map(groupIds.map((id) => [id, emptyModel()]))
  let writes: Write[] = []
  let acked = 0
  let totalAcked = 0
  let checkpoints = 0
  const rounds = 4
  for (let round = 0; round <= rounds; round++) {
    const wal = await openWithRetries()
    const recovered = new Map<string, string>()
    for (const id of groupIds) recovered.set(id, render(await drive(wal.group(id).load())))
    const j = matchingPrefix(base, writes, acked, recovered)
    if (j < 0) {
      const want = new Map([...base].map(([id, m]) => [id, cloneModel(m)]))
      for (const w of writes) applyWrite(want.get(w.group)!, w)
      const detail = groupIds.map((id) => `  ${id}\n    got  ${recovered.get(id)}\n    full ${renderModel(want.get(id)!)}`).join('\n')
      assert.unreachable(`seed ${seed} round ${round}: recovered state is no prefix >= ${acked} of ${writes.length} writes\n${detail}\n${lines.join('\n')}`)
    }
    totalAcked += acked
    for (const w of writes.slice(0, j)) applyWrite(base.get(w.group)!, w)
    if (round === rounds) break

    // The live model continues from what was recovered.
    const live = new Map([...base].map(([id, m]) => [id, cloneModel(m)]))
    const terms = new Map(groupIds.map((id) => [id, lastTerm(live.get(id)!) + base.get(id)!.hardState.term]))
    writes = []
    acked = 0
    const stores = new Map(groupIds.map((id) => [id, wal.group(id)]))
    const steps = 20 + Math.floor(rnd() * 120)
    for (let step = 0; step < steps; step++) {
      const r = rnd()
      if (r < 0.5) {
        const w = randomWrite(rnd, live, terms)
        applyToStore(stores.get(w.group)!, w)
        applyWrite(live.get(w.group)!, w)
        writes.push(w)
      } else if (r < 0.65) {
        const count = writes.length
        const group = groupIds[Math.floor(rnd() * groupIds.length)]!
        stores.get(group)!.sync().then(
          () => (acked = Math.max(acked, count)),
          () => {},
        )
      } else {
        await turn()
        if (gates.length > 0) gates.splice(Math.floor(rnd() * gates.length), 1)[0]!()
      }
    }
    // Let the acknowledgements already delivered land, then pull the plug.
    await turn()
    checkpoints += wal.stats.checkpoints
    disk.crash()
    gates.length = 0 // in-flight I/O of the dead process never completes
  }
  return { crashes: rounds, acked: totalAcked, tornTails: lines.filter((l) => l.includes('torn')).length, checkpoints }
}

test('after crashes at random points, every acknowledged write is recovered and the log is a prefix', async () => {
  const only = process.env.WAL_SEED
  const seeds = only ? [Number(only)] : Array.from({ length: Number(process.env.WAL_SEEDS ?? 100) }, (_, i) => i + 1)
  const totals = { crashes: 0, acked: 0, tornTails: 0, checkpoints: 0 }
  const started = performance.now()
  for (const seed of seeds) {
    try {
      const r = await runSeed(seed)
      for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += r[k]
    } catch (err) {
      console.log(`  replay: WAL_SEED=${seed} pnpm test raft`)
      throw err
    }
  }
  console.log(
    `  wal crash torture: ${seeds.length} seeds, ${totals.crashes} crashes, ${totals.acked} acknowledged writes checked, ${totals.tornTails} torn tails truncated, ${totals.checkpoints} checkpoints, ${Math.round(performance.now() - started)} ms`,
  )
  if (!only) {
    assert.ok(totals.tornTails > 0, 'the seeds exercise torn tails')
    assert.ok(totals.checkpoints > 0, 'the seeds exercise checkpoints')
    assert.ok(totals.acked > 0, 'the seeds acknowledge writes')
  }
})

test.run()
