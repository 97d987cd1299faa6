// `pnpm sim --scenario lease-lock` runs the lease lock workload over many seeds.
import type { Scenario } from '@troupe/testkit'
import { runLeaseSim } from './lease-sim.js'

export const scenario: Scenario = {
  name: 'lease-lock',
  description: "Jepsen's etcd lock workload on a 3-member lease group: fenced counter increments under partitions, leader kills, holder pauses past the TTL, clock drift, lossy/duplicating/reordering links",
  run: (seed) => runLeaseSim(seed),
}
