// `pnpm sim --scenario entity-activation` runs strict single activation of sharded entities over many seeds.
import type { Scenario } from '@troupe/testkit'
import { runEntityActivationSim } from './entity-activation-sim.js'

export const scenarios: Scenario[] = [
  {
    name: 'entity-activation',
    description: 'sharded entities with leaseActivationGuard under disagreeing views, partitions, pauses past the TTL, crashes, clock drift and flaky links: handlers never interleave across activations, no lost or doubled increment in the fenced store',
    run: (seed) => runEntityActivationSim(seed),
  },
]
