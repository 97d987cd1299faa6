// `pnpm sim --scenario saga-cluster` runs the cluster workload over many seeds.
import type { Scenario } from '@troupe/testkit'
import { runClusterSim } from './cluster-sim.js'

export const scenario: Scenario = {
  name: 'saga-cluster',
  description: 'orders as sagas (reserve, charge, pivot confirm, retriable ship) and two-phase transfers on a 3-node Raft saga log; crashes with failover, false suspicions, partitions, pauses, lossy/duplicating/reordering links; saga-atomicity checker with conservation',
  run: (seed) => runClusterSim(seed),
}
