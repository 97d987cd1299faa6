// Five nodes run the cluster under a seeded nemesis: symmetric splits,
// isolated nodes, one-way blocks, crashes with restart and process pauses.
// A node whose cluster ends (downed, replaced) is restarted by the
// supervisor; if every node lost its cluster, the operator re-forms it from
// n1. Checked once the nemesis stops and the network heals:
// (a) membership converges within a bound: every node up, all agree on the
//     up members and the leader, and no downed incarnation is a member again;
// and throughout the run, from the observation log:
// (b) no entity is active on two nodes while the view is stable and shared,
//     and no node activates an entity a member of its own view still runs
//     (rules in cluster-activations.ts, mode 'strict');
// plus: answers come from the entity asked, every entity answers after
// healing, and pub/sub never duplicates or reorders a publisher's messages
// and reaches every subscriber after healing (cluster-pubsub.ts).
import { Nemesis } from '../nemesis.js'
import { traced } from '../scenario.js'
import type { Scenario, ScenarioResult } from '../scenario.js'
import { checkSingleActivation, describeViolation } from './cluster-activations.js'
import { EntityTraffic } from './cluster-entities.js'
import type { EntityApp } from './cluster-entities.js'
import { ClusterHarness } from './cluster-harness.js'
import type { ObservationLog } from './cluster-harness.js'
import { TopicTraffic } from './cluster-pubsub.js'
import type { TopicApp } from './cluster-pubsub.js'

export interface ClusterFaultsOptions {
  /** Virtual ms of faults (default 15,000). */
  faultyMs?: number
  /** Virtual ms after healing within which membership must converge (default 15,000). */
  convergeWithinMs?: number
  /** Mean virtual ms between nemesis faults (default 700). */
  nemesisIntervalMs?: number
  /** Entity ids the clients message (default 40). */
  entities?: number
  /**
   * Also fail when a node activates an entity that a member of its own view
   * still runs (checker mode 'strict'; see cluster-activations.ts). On by
   * default; false checks only the stable-view rules.
   */
  strict?: boolean
  /** Gets the observation log at the end of the run (for ad-hoc analysis of a seed). */
  observe?: (log: ObservationLog) => void
}

const NAMES = ['n1', 'n2', 'n3', 'n4', 'n5']
/** With no cluster up anywhere for this long, the operator re-forms it. */
const LOST_CLUSTER_MS = 3000
const HANDOFF_TIMEOUT_MS = 2000

export async function runClusterFaults(seed: number, options: ClusterFaultsOptions = {}): Promise<ScenarioResult> {
  const traffic = new EntityTraffic({ entities: options.entities ?? 40, handoffTimeoutMs: HANDOFF_TIMEOUT_MS })
  const topics = new TopicTraffic()
  const harness = new ClusterHarness<EntityApp & TopicApp>(seed, {
    names: NAMES,
    world: { network: { latencyMs: { min: 1, max: 15 } } },
    extend: (env, system, cluster, log) => ({ ...traffic.boot(env, system, cluster, log), ...topics.boot(env, system, cluster) }),
  })
  const appOf = (name: string) => harness.app(name)!.extra
  const { world, log } = harness
  return traced(world, async () => {
    if (!(await world.runUntil(() => harness.converged(NAMES), 10_000))) {
      throw new Error(`cluster-faults: the 5 nodes did not form a cluster within 10 s\n${harness.describe()}`)
    }
    traffic.start()
    topics.start()
    const nemesis = new Nemesis(world, {
      intervalMs: options.nemesisIntervalMs ?? 700,
      durationMs: { min: 200, max: 3500 },
      partitions: true,
      crashes: true,
      pauses: true,
      maxActive: 2,
    }).start()
    await world.runFor(options.faultyMs ?? 15_000)

    nemesis.stop()
    world.network.heal()
    for (const name of NAMES) if (world.node(name).state === 'down') world.restart(name)
    world.note('healed')
    const healedAt = world.now
    const convergeWithinMs = options.convergeWithinMs ?? 15_000
    let lastUpAt = world.now
    let converged = false
    while (!converged && world.now - healedAt < convergeWithinMs) {
      converged = await world.runUntil(() => harness.converged(NAMES), 500)
      if (harness.anyUp()) lastUpAt = world.now
      else if (world.now - lastUpAt >= LOST_CLUSTER_MS) {
        harness.rebootstrap(NAMES[0]!)
        lastUpAt = world.now
      }
    }
    const convergedAfterMs = world.now - healedAt
    if (!converged) {
      throw new Error(
        `cluster-faults: membership did not converge within ${convergeWithinMs} ms of healing\n${harness.describe()}\n` +
          `nemesis:\n  ${nemesis.log.slice(-15).join('\n  ')}\nnotes:\n  ${log.notes.join('\n  ')}`,
      )
    }
    const violations: string[] = []
    // A downed incarnation never comes back: no node lists one it saw downed.
    for (const name of NAMES) {
      const app = harness.app(name)!
      const members = app.cluster.members()
      for (const [node, inc] of log.downedSeenBy(`${name}#${app.incarnation}`)) {
        const back = members.find((m) => m.node === node && m.incarnation === inc && m.status !== 'down')
        if (back !== undefined) violations.push(`${name} saw ${node}#${inc} downed, and now lists it as ${back.status}`)
      }
    }
    await traffic.checkAllReachable(world, NAMES, appOf)
    await topics.checkAfterHeal(world, NAMES, appOf)
    violations.push(...traffic.violations, ...topics.violations)
    // An overlap left from a time when views differed ends within 2 × handoffTimeoutMs of the new view.
    const settle = { settleMs: 2 * HANDOFF_TIMEOUT_MS, endMs: world.now }
    const activations = checkSingleActivation(log.entries, settle)
    const strict = checkSingleActivation(log.entries, { ...settle, mode: 'strict' })
    for (const v of (options.strict !== false ? strict : activations).violations) violations.push(describeViolation(v))

    const result: ScenarioResult = {
      seed,
      traceHash: world.traceHash,
      events: world.traceEvents,
      virtualMs: world.now,
      stats: {
        convergedAfterMs,
        ...log.counts,
        activations: activations.activations,
        activationsInSharedView: activations.activationsInSharedView,
        settledMs: activations.settledMs,
        activatedBesideMember: strict.violations.length - activations.violations.length,
        ...traffic.counts,
        ...prefixed('pubsub.', { ...topics.counts }),
        ...prefixed('nemesis.', { ...nemesis.counts }),
        'net.sent': world.network.stats.sent,
        'net.dropped': world.network.stats.dropped,
      },
    }
    world.dispose()
    options.observe?.(log)
    if (violations.length > 0) {
      throw new Error(`cluster-faults: ${violations.length} violation(s):\n  ${violations.slice(0, 20).join('\n  ')}`)
    }
    return result
  })
}

function prefixed(prefix: string, counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [prefix + k, v]))
}

export const clusterFaults: Scenario = {
  name: 'cluster-faults',
  description: '5 cluster nodes with entities and pub/sub under partitions (incl. one-way), crashes and pauses: convergence after heal, single activation in stable views, and no activation beside a member of the own view that still runs the entity',
  run: (seed) => runClusterFaults(seed),
}
