// `pnpm sim --scenario raft-kv --seeds 2000`: the key-value group of sim-kv.ts over many seeds.
import type { Scenario } from '@troupe/testkit'
import { runRaftKv } from './sim-kv.js'

export const scenario: Scenario = {
  name: 'raft-kv',
  description: '5-node Raft key-value group, WAL on SimDisk, nemesis (partitions, crashes, torn writes, pauses, clocks, lossy links); linearizability checked',
  run: (seed) => runRaftKv(seed),
}
