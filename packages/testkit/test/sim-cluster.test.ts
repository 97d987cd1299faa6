// The whole-cluster simulation: 5 nodes exchanging actor messages under a
// nemesis (partitions, lossy/duplicating/reordering links, pauses, clock
// faults, crashes with restart) replays exactly from its seed. A bounded
// number of seeds runs here; `pnpm sim --seeds N` runs many more.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runSeeds } from '../src/sim/scenario.js'
import type { Scenario, ScenarioResult } from '../src/sim/scenario.js'
import { actorChatter } from '../src/sim/scenarios/actor-chatter.js'
import { simSeeds } from '../src/sim/seeds.js'

const REPLAY = 'pnpm test testkit'

/** Runs one seed; a failure rethrows with the seed, the replay command and the trace tail. */
async function runOnce(scenario: Scenario, seed: number): Promise<ScenarioResult & { wallMs: number }> {
  const [outcome] = await runSeeds(scenario, [seed], { replay: REPLAY })
  if (outcome!.error !== undefined) throw outcome!.error
  return { ...outcome!.result!, wallMs: outcome!.wallMs }
}

test('5 nodes under faults: the same seed gives the same trace, another seed another one', async () => {
  const hashes = new Map<number, string>()
  for (const seed of simSeeds(3)) {
    const first = await runOnce(actorChatter, seed)
    const second = await runOnce(actorChatter, seed)
    const s = first.stats
    console.log(
      `  seed ${seed}: trace ${first.traceHash} (${first.events} events, ${first.virtualMs.toFixed(0)} virtual ms) in ${first.wallMs.toFixed(0)} + ${second.wallMs.toFixed(0)} ms;` +
        ` asks ${s.answered}/${s.asked} answered, ${s.timedOut} timed out; frames ${s['net.sent']} sent, ${s['net.dropped']} dropped, ${s['net.duplicated']} doubled, ${s['net.reordered']} late;` +
        ` faults: ${s['nemesis.partition']} partitions, ${s['nemesis.crash']} crashes, ${s['nemesis.pause']} pauses, ${s['nemesis.clock']} clock, ${s['nemesis.flaky']} flaky; ${s.boots} boots`,
    )
    const replay = `seed ${seed}; replay: SIM_SEED=${seed} ${REPLAY}`
    assert.is(second.traceHash, first.traceHash, `same seed, different trace: nondeterminism. ${replay}`)
    assert.equal(second.stats, first.stats, `same seed, different outcome. ${replay}`)
    assert.ok(s.boots! > 5, `some node crashed and restarted. ${replay}`)
    assert.ok(s['net.dropped']! > 0 && s['net.duplicated']! > 0 && s['net.reordered']! > 0, `the network misbehaved. ${replay}`)
    hashes.set(seed, first.traceHash)
  }
  // A different seed must give a different run (also when SIM_SEED pins one seed).
  const [seed] = [...hashes.keys()]
  const other = await runOnce(actorChatter, seed! + 1000)
  assert.is.not(other.traceHash, hashes.get(seed!), `seeds ${seed} and ${seed! + 1000} gave the same trace`)
  if (hashes.size > 1) assert.is(new Set(hashes.values()).size, hashes.size, 'every seed gave its own trace')
})

test('a failing seed reports the seed, a one-line replay command and the trace tail', async () => {
  const failing: Scenario = {
    name: 'always-fails',
    description: 'for this test',
    run: async (seed) => {
      throw Object.assign(new Error(`invariant broken`), { simTrace: ['12|n1|deliver n2>n1 10B abc'] })
    },
  }
  const [outcome] = await runSeeds(failing, [4242], { replay: REPLAY })
  const message = (outcome!.error as Error).message
  assert.match(message, 'invariant broken')
  assert.match(message, 'seed 4242; replay: SIM_SEED=4242 pnpm test testkit')
  assert.match(message, '12|n1|deliver n2>n1 10B abc')
  const [cli] = await runSeeds(failing, [7])
  assert.match((cli!.error as Error).message, 'SIM_SEED=7 pnpm sim --scenario always-fails')
})

test.run()
