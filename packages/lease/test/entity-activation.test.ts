// Strict single activation of sharded entities with leaseActivationGuard:
// simulated runs where membership views disagree all the time (the split
// brain sharding alone cannot rule out) under the nemesis, plus one run
// without the guard that must fail the same checks. SIM_SEED=<n> replays one
// seed; `pnpm sim --scenario entity-activation --seeds N` runs many.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { simSeeds, withSeed } from '@troupe/testkit'
import { runEntityActivationSim } from './entity-activation-sim.js'
import { leaseActivationGuard } from '../src/entity-activation.js'
import { isLeaseError } from '../src/lease-error.js'

const replay = 'pnpm test lease'
const seedCount = Number(process.env.LEASE_SIM_SEEDS ?? 6)

test(`with the guard, entity handlers never interleave across activations and no increment is lost (${seedCount} seeds)`, async () => {
  let writes = 0
  let permitsLost = 0
  for (const seed of simSeeds(seedCount, 1)) {
    const r = await withSeed(seed, () => runEntityActivationSim(seed), { replay })
    writes += r.stats.writes!
    permitsLost += r.stats.permitsLost ?? 0
  }
  console.log(`  entity activation: ${seedCount} seeds, ${writes} fenced writes, ${permitsLost} activations stopped on a lost lease`)
})

test('without the guard, the same workload loses increments (the checks can fail)', async () => {
  const err = await runEntityActivationSim(1, { guard: false }).then(
    () => null,
    (e: unknown) => e as Error,
  )
  assert.ok(err !== null, 'the unguarded run should have failed')
  assert.match(err.message, /an increment was lost/)
})

test('leaseActivationGuard refuses bad options', () => {
  const leases = { margin: { ratio: 0.05, ms: 20 } } as Parameters<typeof leaseActivationGuard>[0]
  // ttlMs 44: the margin (22.2 ms) is more than half of it.
  for (const bad of [{ ttlMs: 0 }, { ttlMs: Number.NaN }, { ttlMs: 44 }, { prefix: 'x'.repeat(300) }]) {
    try {
      leaseActivationGuard(leases, bad)
      assert.unreachable(`accepted ${JSON.stringify(bad)}`)
    } catch (err) {
      assert.ok(isLeaseError(err, 'INVALID_ARGUMENT'), String(err))
    }
  }
})

test.run()
