// Cluster membership (and the layers above it) on 5 simulated nodes under a
// seeded nemesis. A bounded number of seeds runs here; `pnpm sim --scenario
// cluster-faults --seeds N` runs many more. Every failure names its seed and
// the command that replays it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runSeeds } from '../src/sim/scenario.js'
import type { Scenario, ScenarioResult } from '../src/sim/scenario.js'
import { checkSingleActivation } from '../src/sim/scenarios/cluster-activations.js'
import { clusterFaults } from '../src/sim/scenarios/cluster-faults.js'
import { clusterHandoff } from '../src/sim/scenarios/cluster-handoff.js'
import type { ClusterObservation } from '../src/sim/scenarios/cluster-harness.js'
import { simSeeds } from '../src/sim/seeds.js'

const REPLAY = 'pnpm test testkit'

async function runOnce(scenario: Scenario, seed: number): Promise<ScenarioResult & { wallMs: number }> {
  const [outcome] = await runSeeds(scenario, [seed], { replay: REPLAY })
  if (outcome!.error !== undefined) throw outcome!.error
  return { ...outcome!.result!, wallMs: outcome!.wallMs }
}

test('cluster under partitions, crashes and pauses: converges after heal, one activation per entity in stable views', async () => {
  const converged: number[] = []
  for (const seed of simSeeds(5)) {
    const r = await runOnce(clusterFaults, seed)
    const s = r.stats
    converged.push(s.convergedAfterMs!)
    console.log(
      `  seed ${seed}: converged ${s.convergedAfterMs!.toFixed(0)} virtual ms after heal; ${r.events} events, ${(r.virtualMs / 1000).toFixed(1)} virtual s in ${r.wallMs.toFixed(0)} ms;` +
        ` faults: ${s['nemesis.partition']} partitions, ${s['nemesis.crash']} crashes, ${s['nemesis.pause']} pauses; ${s.selfDowns} self-downs, ${s.boots} boots;` +
        ` ${s.activations} activations (${s.activationsInSharedView} in a shared view, ${s.activatedBesideMember} beside a running one of a member), asks ${s.answered}/${s.asked} answered`,
    )
    const replay = `seed ${seed}; replay: SIM_SEED=${seed} ${REPLAY}`
    assert.ok(s['nemesis.partition']! + s['nemesis.crash']! + s['nemesis.pause']! > 5, `the nemesis injected faults. ${replay}`)
    assert.ok(s.answered! > 100 && s.activationsInSharedView! > 10, `entities were used, also in shared views. ${replay}`)
  }
  console.log(`  convergence after heal (virtual ms): max ${Math.max(...converged).toFixed(0)}`)
})

test('planned join, leave and rejoin while clients stream: nothing lost, no duplicates, order per sender, one activation at a time', async () => {
  for (const seed of simSeeds(4)) {
    const r = await runOnce(clusterHandoff, seed)
    const s = r.stats
    console.log(
      `  seed ${seed}: ${s.told} tells and ${s.asked} asks, ${s.activations} activations${s.overlappingChanges ? ', leave while the join spread' : ''};` +
        ` converged after join ${s.joinMs?.toFixed(0) ?? '-'} ms, leave ${s.leaveMs!.toFixed(0)} ms, rejoin ${s.rejoinMs!.toFixed(0)} ms (virtual); ${r.wallMs.toFixed(0)} ms wall`,
    )
    assert.ok(s.told! > 1000 && s.asked! > 100, `the clients streamed. seed ${seed}; replay: SIM_SEED=${seed} ${REPLAY}`)
  }
})

test('regression, seed 131: a restarted node is not fooled by a tombstone of its previous incarnation', async () => {
  // Gossip carrying only a tombstone of n#1 once made n#2 believe it had joined:
  // it stopped sending joins and was never admitted, so membership never converged.
  const r = await runOnce(clusterFaults, 131)
  assert.ok(r.stats.convergedAfterMs !== undefined, 'seed 131; replay: SIM_SEED=131 pnpm sim --scenario cluster-faults')
})

test('regression, seed 196: a node the surviving cluster never admitted finds out after the heal and rejoins', async () => {
  // n3#2 was admitted only by n1, which crashed before telling anyone; cut off, n3 kept
  // a cluster of its own with n4 and n5 (which answered its heartbeats but never knew it).
  // Now their gossip, still without n3#2 after stable-after, sends it down and its restart rejoins.
  const r = await runOnce(clusterFaults, 196)
  assert.ok(r.stats.convergedAfterMs !== undefined, 'seed 196; replay: SIM_SEED=196 pnpm sim --scenario cluster-faults')
})

test('regression, seed 226: a joiner waits for a leaver whose last status it got from before the leaver saw it', async () => {
  // n2 left while n5's join spread; its status saying it hands shard 37 off went to the
  // members of its own view only, without n5. n5 still had n2's status from before
  // (n2 owns 37, hands nothing off) and activated acct-7 while n2 still served it.
  const r = await runOnce(clusterHandoff, 226)
  assert.ok(r.stats.overlappingChanges === 1, 'seed 226: the leave overlaps the join')
})

test('regression, seed 426: a joining node holds what others route to it until it is up in its own view', async () => {
  // n1 and n3 saw n5 up and routed shard 37 to it; n5, not yet up in its own view, sent the
  // messages back to n1. They bounced, some were parked after 4 hops, and n3's #17 for acct-7
  // reached the new activation on n5 before #16.
  await runOnce(clusterHandoff, 426)
})

test('the same seed replays the same cluster run', async () => {
  const [seed] = simSeeds(1, 101)
  const a = await runOnce(clusterFaults, seed!)
  const b = await runOnce(clusterFaults, seed!)
  assert.is(b.traceHash, a.traceHash, `seed ${seed}: same seed, different trace (nondeterminism); replay: SIM_SEED=${seed} ${REPLAY}`)
  assert.equal(b.stats, a.stats)
})

// ---- the single-activation checker on hand-made histories -------------------

function history(...steps: Array<[number, string, string, string?]>): ClusterObservation[] {
  return steps.map(([atMs, kind, node, arg]): ClusterObservation => {
    switch (kind) {
      case 'boot':
        return { kind, atMs, node, incarnation: 1 }
      case 'crash':
        return { kind, atMs, node }
      case 'view':
        return { kind, atMs, node, members: arg === '' ? [] : arg!.split(',') }
      case 'start':
      case 'stop':
        return { kind, atMs, node, entity: arg! }
      default:
        throw new Error(kind)
    }
  })
}

const twoNodesUp: Array<[number, string, string, string?]> = [
  [0, 'boot', 'a'],
  [0, 'boot', 'b'],
  [1, 'view', 'a', 'a,b'],
  [1, 'view', 'b', 'a,b'],
]
const SETTLE = { settleMs: 100 }

test('checker: an activation that starts in a shared view while another runs is reported', () => {
  const r = checkSingleActivation(history(...twoNodesUp, [2, 'start', 'a', 'e1'], [3, 'start', 'b', 'e1'], [4, 'stop', 'a', 'e1']), SETTLE)
  assert.is(r.violations.length, 1)
  assert.is(r.violations[0]!.rule, 'started-while-active')
  assert.equal(r.violations[0]!.nodes, ['a', 'b'])
  assert.is(r.violations[0]!.atMs, 3)
  // Two activations on one node count too.
  assert.is(checkSingleActivation(history(...twoNodesUp, [2, 'start', 'a', 'e1'], [3, 'start', 'a', 'e1']), SETTLE).violations.length, 1)
  // One after the other is fine.
  assert.is(checkSingleActivation(history(...twoNodesUp, [2, 'start', 'a', 'e1'], [3, 'stop', 'a', 'e1'], [3, 'start', 'b', 'e1']), SETTLE).violations.length, 0)
})

test('checker: an overlap from before the views agreed may last until the view settles, not longer', () => {
  const before: Array<[number, string, string, string?]> = [...twoNodesUp, [2, 'start', 'a', 'e1'], [3, 'view', 'a', 'a'], [4, 'start', 'b', 'e1'], [5, 'view', 'b', 'a']]
  assert.is(checkSingleActivation(history(...before, [50, 'stop', 'a', 'e1'], [500, 'view', 'a', 'a']), SETTLE).violations.length, 0)
  const late = checkSingleActivation(history(...before, [200, 'stop', 'a', 'e1']), SETTLE)
  assert.is(late.violations.length, 1)
  assert.is(late.violations[0]!.rule, 'overlap-in-settled-view')
  assert.is(late.violations[0]!.atMs, 105)
  // No later event at all: the end of the run closes the interval.
  assert.is(checkSingleActivation(history(...before), { ...SETTLE, endMs: 1000 }).violations.length, 1)
  assert.is(checkSingleActivation(history(...before), { ...SETTLE, endMs: 100 }).violations.length, 0)
  // Mode 'always' allows no overlap at all.
  assert.is(checkSingleActivation(history(...before, [50, 'stop', 'a', 'e1']), { mode: 'always' }).violations[0]?.rule, 'overlap')
})

test('checker, strict mode: activating beside a member of the own view that still runs the entity is reported', () => {
  const race = history(...twoNodesUp, [2, 'start', 'a', 'e1'], [3, 'boot', 'c'], [4, 'view', 'c', 'a,b,c'], [5, 'start', 'c', 'e1'], [6, 'stop', 'a', 'e1'])
  assert.is(checkSingleActivation(race, SETTLE).violations.length, 0, 'views differ: the default rules allow it')
  const strict = checkSingleActivation(race, { ...SETTLE, mode: 'strict' })
  assert.is(strict.violations[0]?.rule, 'started-beside-member')
  // A node that no longer counts the old host as a member (a removal not yet seen there) is allowed.
  const removal = history(...twoNodesUp, [2, 'start', 'a', 'e1'], [3, 'view', 'b', 'b'], [4, 'start', 'b', 'e1'], [5, 'stop', 'a', 'e1'])
  assert.is(checkSingleActivation(removal, { ...SETTLE, mode: 'strict' }).violations.length, 0)
  // Nor is a node that others already downed (it does not know yet).
  const downed: ClusterObservation[] = [
    ...history(...twoNodesUp, [2, 'start', 'a', 'e1'], [3, 'view', 'a', 'a']),
    { kind: 'downed', atMs: 3, node: 'a', member: 'b', incarnation: 1 },
    ...history([4, 'start', 'b', 'e1'], [5, 'stop', 'a', 'e1']),
  ]
  assert.is(checkSingleActivation(downed, { ...SETTLE, mode: 'strict' }).violations.length, 0)
})

test('checker: a crash ends the node activations; a booting node makes the view not shared', () => {
  const crashed = history(...twoNodesUp, [2, 'start', 'a', 'e1'], [3, 'crash', 'a'], [4, 'start', 'b', 'e1'])
  assert.is(checkSingleActivation(crashed, SETTLE).violations.length, 0)
  const booting = history(...twoNodesUp, [2, 'start', 'a', 'e1'], [3, 'boot', 'c'], [4, 'start', 'b', 'e1'], [5, 'stop', 'a', 'e1'], [6, 'view', 'c', 'a,b'])
  assert.is(checkSingleActivation(booting, { ...SETTLE, endMs: 1000 }).violations.length, 0)
  const booted = history(...twoNodesUp, [2, 'start', 'a', 'e1'], [3, 'boot', 'c'], [4, 'start', 'b', 'e1'], [6, 'view', 'c', 'a,b'])
  assert.is(checkSingleActivation(booted, { ...SETTLE, endMs: 1000 }).violations.length, 1)
})

test.run()
