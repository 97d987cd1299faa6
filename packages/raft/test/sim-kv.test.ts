// The key-value group under the nemesis (see sim-kv.ts), over a bounded
// number of seeds; `pnpm sim --scenario raft-kv` runs thousands. A seed that
// ever failed is listed in `regressions` and runs on every `pnpm test`.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { simSeeds, withSeed } from '@troupe/testkit'
import { runRaftKv } from './sim-kv.js'

const regressions: number[] = []
const seeds = simSeeds(Number(process.env.RAFT_KV_SEEDS ?? 8), 1001)

test('5-node key-value group under partitions, crashes, torn writes, pauses, clock skew and a lossy network is linearizable', async () => {
  const totals = { ok: 0, info: 0, fail: 0, operations: 0, boots: 0, restores: 0 }
  for (const seed of [...regressions, ...seeds]) {
    const r = await withSeed(seed, () => runRaftKv(seed), { replay: 'pnpm test raft' })
    for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += r.stats[k] ?? 0
  }
  console.log(`  ${regressions.length + seeds.length} seeds: ${totals.operations} operations (${totals.ok} ok, ${totals.info} unknown, ${totals.fail} failed reads), ${totals.boots} node boots, ${totals.restores} snapshot restores; all linearizable`)
})

test('a seed replays exactly (same trace hash)', async () => {
  const seed = seeds[0]!
  const short = { faultyMs: 3000, recoverMs: 1000 }
  const a = await runRaftKv(seed, short)
  const b = await runRaftKv(seed, short)
  assert.is(a.traceHash, b.traceHash)
  assert.is(a.events, b.events)
})

test.run()
