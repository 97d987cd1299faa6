// `pnpm sim --scenario lease-linearizable` checks lease operations over many seeds.
import type { Scenario } from '@troupe/testkit'
import { runLeaseLinearizability } from './lease-lin.js'

export const scenario: Scenario = {
  name: 'lease-linearizable',
  description: 'tryAcquire/release/get of two leases through a 3-member group under partitions, member crashes and flaky links, checked for linearizability against a sequential lock',
  run: (seed) => runLeaseLinearizability(seed),
}
