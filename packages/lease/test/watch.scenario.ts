// `pnpm sim --scenario lease-watch` runs the pushed-watch workload over many seeds.
import type { Scenario } from '@troupe/testkit'
import { runWatchSim } from './watch-sim.js'

export const scenario: Scenario = {
  name: 'lease-watch',
  description: 'watchers of three lease names (on client nodes and a member) under partitions, leader kills and flaky links: revisions never go back, every watcher converges to a linearizable read, idle watches cost no reads',
  run: (seed) => runWatchSim(seed),
}
