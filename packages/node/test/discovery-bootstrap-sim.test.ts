// The proof of Cluster Bootstrap: over 500 seeds, 5 nodes boot within 5 s of
// each other while their discovery answers differ for up to 2 s, probes are
// lost or hang, and the real Cluster runs on the simulated network: exactly
// one node forms a cluster and all five end up in it. Plus: the
// requiredContactPoints rule holds formation back, and a discovery outage
// delays it without splitting the cluster.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { annotateWithSeed, simSeeds } from '@troupe/testkit'
import { runBootstrapSim } from './discovery-sim.js'
import type { BootstrapSimOptions, BootstrapSimReport } from './discovery-sim.js'

const REPLAY = 'node --conditions=source --import tsx ../../node_modules/uvu/bin.js test discovery-bootstrap-sim (in packages/node)'

async function checked(seed: number, options: BootstrapSimOptions = {}, check?: (r: BootstrapSimReport) => void): Promise<BootstrapSimReport> {
  let report: BootstrapSimReport | undefined
  try {
    report = await runBootstrapSim(seed, options)
    assert.is(report.forms.length, 1, `exactly one node forms, got [${report.forms.join(',')}]`)
    const formDecisions = Object.values(report.decisions).reduce((sum, d) => sum + d.form, 0)
    assert.is(formDecisions, 1, 'one form decision over all nodes')
    assert.ok(report.converged, 'all nodes up in one membership')
    check?.(report)
    return report
  } catch (err) {
    throw annotateWithSeed(err, seed, { replay: REPLAY, context: () => (report ? [report.describe()] : []) })
  }
}

test('500 seeds: 5 nodes, divergent discovery for up to 2 s, lossy probes: exactly one cluster forms', async () => {
  const seeds = simSeeds(500)
  let runs = 0
  let virtualMs = 0
  for (const seed of seeds) {
    const r = await checked(seed)
    runs++
    virtualMs += r.endMs
  }
  console.log(`discovery-bootstrap-sim: ${runs} seeds, one cluster each (${Math.round(virtualMs / runs)} virtual ms to converge on average)`)
})

test('requiredContactPoints holds formation back until that many contacts are discovered', async () => {
  // Three nodes boot at 0, two more at 20 s; discovery lists a node once it runs.
  const late = { startsMs: [0, 0, 0, 20_000, 20_000], listed: 'boot' as const, maxMs: 60_000 }
  for (const seed of simSeeds(20, 1000)) {
    await checked(seed, { ...late, tunables: { requiredContactPoints: 5 } }, (r) => {
      const formedAt = r.decidedAtMs[r.forms[0]!]!
      assert.ok(formedAt >= 20_000, `formed at ${formedAt}, before the fourth and fifth node ran`)
    })
    // The same runs with the default (2) form among the first three, long before: the rule is what held them back.
    await checked(seed, late, (r) => {
      const formedAt = r.decidedAtMs[r.forms[0]!]!
      assert.ok(formedAt < 20_000, `formed at ${formedAt}`)
      assert.ok(['n1', 'n2', 'n3'].includes(r.forms[0]!))
    })
  }
  const held = await runBootstrapSim(7, { nodes: 3, listed: 'boot', tunables: { requiredContactPoints: 4 }, maxMs: 30_000 })
  assert.equal(held.forms, [], 'three nodes never form when four contact points are required')
  assert.not.ok(held.converged)
  assert.ok(Object.values(held.decisions).every((d) => d.wait > 0 && d.form === 0 && d.join === 0))
})

test('discovery failing for a while delays formation; still exactly one cluster', async () => {
  for (const seed of simSeeds(30, 2000)) {
    await checked(seed, { discoveryOutage: { fromMs: 3000, toMs: 12_000 } }, (r) => {
      assert.ok(r.lookupFailures > 0)
      const formedAt = r.decidedAtMs[r.forms[0]!]!
      // The margin starts again after the outage: nobody forms before 12 s + stableMarginMs.
      assert.ok(formedAt >= 17_000, `formed at ${formedAt}`)
    })
  }
})

test.run()
