// Pushed watches under partitions, leader kills and flaky links (see
// watch-sim.ts). LEASE_SIM_SEEDS=<n> runs more seeds, SIM_SEED=<n> replays one.
import { test } from 'uvu'
import { simSeeds, withSeed } from '@troupe/testkit'
import { runWatchSim } from './watch-sim.js'

const seedCount = Math.ceil(Number(process.env.LEASE_SIM_SEEDS ?? 6) / 2)

test(`watchers converge to the latest holders, revisions never go back, idle watches read nothing (${seedCount} seeds)`, async () => {
  const started = performance.now()
  const totals = { changes: 0, yielded: 0, registrations: 0, events: 0, leaderKills: 0 }
  for (const seed of simSeeds(seedCount, 301)) {
    const r = await withSeed(seed, () => runWatchSim(seed), { replay: 'pnpm test lease' })
    for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += r.stats[k] ?? 0
  }
  console.log(`  watch sim: ${seedCount} seeds, ${totals.changes} lease changes, ${totals.yielded} states yielded, ${totals.events} pushed events, ${totals.registrations} registering reads, ${totals.leaderKills} leader kills, ${Math.round(performance.now() - started)} ms`)
})

test.run()
