import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { simSeeds, withSeed } from '@troupe/testkit'
import { runClusterSim } from './cluster-sim.js'

test('cluster: sagas and transfers under crashes, failover, partitions and flaky links keep guarantees 1-4 and conservation', async () => {
  const totals: Record<string, number> = {}
  for (const seed of simSeeds(Number(process.env.SAGA_SEEDS ?? 1) * 2)) {
    const t0 = performance.now()
    const r = await withSeed(seed, () => runClusterSim(seed), { replay: 'pnpm test saga' })
    for (const [k, v] of Object.entries(r.stats)) totals[k] = (totals[k] ?? 0) + v
    console.log(`  seed ${seed}: ${JSON.stringify(r.stats)} in ${Math.round(performance.now() - t0)} ms wall, ${r.virtualMs} ms virtual`)
  }
  if (!process.env.SIM_SEED) {
    assert.ok(totals.completed > 0 && totals.compensated > 0, 'both outcomes occurred')
    assert.ok(totals.crashes > 0, 'coordinators crashed')
  }
})

test('cluster: the same seed replays the same run', async () => {
  const a = await runClusterSim(11, { faultyMs: 2000 })
  const b = await runClusterSim(11, { faultyMs: 2000 })
  assert.is(a.traceHash, b.traceHash)
})

test.run()
