// Planned handoffs while clients stream numbered messages to entities: a
// fifth node joins, a node leaves gracefully (for half the seeds while the
// join is still spreading; its process exits once its shards are handed
// off), then comes back as a new incarnation. No faults:
// the network is reliable (FIFO, variable latency). Checked: every message
// sent to an entity is handled exactly once and in order per sender (no
// gaps, no duplicates), every ask is answered, and no entity is ever active
// on two nodes at once (the docs promise that for joins and for a leave the
// leaver sees first).
import { Sharding, defineActor, entityId } from '@troupe/runtime'
import type { ActorSystem, Cluster } from '@troupe/runtime'
import { traced } from '../scenario.js'
import type { Scenario, ScenarioResult } from '../scenario.js'
import type { NodeEnv } from '../sim-node.js'
import { checkSingleActivation, describeViolation } from './cluster-activations.js'
import { ClusterHarness } from './cluster-harness.js'
import type { ObservationLog } from './cluster-harness.js'

export interface ClusterHandoffOptions {
  /** Entity ids the clients stream to (default 24). */
  entities?: number
  /** Nodes whose client streams (default n1 and n3, which never leave). */
  senders?: string[]
}

const NAMES = ['n1', 'n2', 'n3', 'n4', 'n5']
const HANDOFF_TIMEOUT_MS = 2000
const MAX_VIOLATIONS = 20

type Put = { sender: string; seq: number }

/** What the entities received, per entity and sender, across all activations and nodes. */
class Ledger {
  readonly received = new Map<string, Map<string, number[]>>()
  readonly sent = new Map<string, Map<string, number>>()
  readonly counts = { told: 0, asked: 0, answered: 0 }
  readonly violations: string[] = []

  record(entity: string, p: Put): void {
    let bySender = this.received.get(entity)
    if (bySender === undefined) this.received.set(entity, (bySender = new Map()))
    const list = bySender.get(p.sender) ?? []
    list.push(p.seq)
    bySender.set(p.sender, list)
  }

  nextSeq(entity: string, sender: string): number {
    let bySender = this.sent.get(entity)
    if (bySender === undefined) this.sent.set(entity, (bySender = new Map()))
    const seq = (bySender.get(sender) ?? 0) + 1
    bySender.set(sender, seq)
    return seq
  }

  violation(what: string): void {
    if (this.violations.length < MAX_VIOLATIONS) this.violations.push(what)
  }

  /** Each sender's messages to each entity arrived exactly once, in order: 1, 2, ..., sent. */
  check(): string[] {
    const out: string[] = []
    for (const [entity, bySender] of this.sent) {
      for (const [sender, sent] of bySender) {
        const got = this.received.get(entity)?.get(sender) ?? []
        const problem = sequenceProblem(got, sent)
        if (problem !== null && out.length < MAX_VIOLATIONS) out.push(`entity ${entity} from ${sender}: ${problem}`)
      }
    }
    return out
  }
}

/** Why `got` is not 1..sent in order, or null. */
function sequenceProblem(got: number[], sent: number): string | null {
  const seen = new Set<number>()
  for (const [i, seq] of got.entries()) {
    if (seen.has(seq)) return `message ${seq} handled twice`
    seen.add(seq)
    if (i > 0 && seq < got[i - 1]!) return `message ${seq} handled after ${got[i - 1]} (out of order)`
  }
  const missing: number[] = []
  for (let seq = 1; seq <= sent && missing.length < 5; seq++) if (!seen.has(seq)) missing.push(seq)
  return missing.length > 0 ? `lost message(s) ${missing.join(', ')}${missing.length === 5 ? ', ...' : ''} of ${sent}` : null
}

interface HandoffApp {
  readonly sharding: Sharding
  readonly client: { running: boolean }
}

function ledgerKind(node: string, ledger: Ledger, log: ObservationLog) {
  return defineActor({
    name: 'ledger',
    initial: (ctx) => {
      const id = entityId(ctx)
      log.add({ kind: 'start', node, entity: id })
      return { id }
    },
    onStop: (s) => log.add({ kind: 'stop', node, entity: s.id }),
    handlers: {
      put(s, p: Put) {
        ledger.record(s.id, p)
        return p.seq
      },
    },
  })
}

function boot(env: NodeEnv, system: ActorSystem, cluster: Cluster, log: ObservationLog, ledger: Ledger, ids: string[], senders: string[]): HandoffApp {
  const sharding = Sharding.start(system, cluster, { shards: 64, passivateAfterMs: 0, handoffTimeoutMs: HANDOFF_TIMEOUT_MS })
  const Ledger = ledgerKind(env.name, ledger, log)
  sharding.register(Ledger)
  const client = { running: false }
  if (senders.includes(env.name)) {
    const me = env.name
    const Streamer = defineActor({
      name: 'streamer',
      initial: () => ({ next: 0 }),
      onStart: (_s, ctx) => ctx.timers.startSingle('tick', 1, 'tick', undefined),
      handlers: {
        tick(s, _: void, ctx) {
          ctx.timers.startSingle('tick', env.prng.range(2, 8), 'tick', undefined)
          if (!client.running) return
          const id = ids[s.next++ % ids.length]!
          const seq = ledger.nextSeq(id, me)
          const ref = sharding.entity(Ledger, id)
          if (!env.prng.chance(0.1)) {
            ledger.counts.told++
            return ref.tell('put', { sender: me, seq })
          }
          ledger.counts.asked++
          ref.ask('put', { sender: me, seq }, { timeoutMs: 5 * HANDOFF_TIMEOUT_MS }).then(
            (echo) => {
              ledger.counts.answered++
              if (echo !== seq) ledger.violation(`${me} asked ${id} #${seq}, got the answer for #${echo}`)
            },
            (err) => ledger.violation(`${me} asked ${id} #${seq}: ${String(err)}`),
          )
        },
      },
    })
    system.spawn(Streamer, { name: 'streamer' })
  }
  return { sharding, client }
}

export async function runClusterHandoff(seed: number, options: ClusterHandoffOptions = {}): Promise<ScenarioResult> {
  const ids = Array.from({ length: options.entities ?? 24 }, (_, i) => `acct-${i}`)
  const senders = options.senders ?? ['n1', 'n3']
  const ledger = new Ledger()
  const harness = new ClusterHarness<HandoffApp>(seed, {
    names: NAMES,
    initial: ['n1', 'n2', 'n3', 'n4'],
    world: { network: { latencyMs: { min: 1, max: 20 } } },
    askTimeoutMs: 5000,
    extend: (env, system, cluster, log) => boot(env, system, cluster, log, ledger, ids, senders),
  })
  const { world, log } = harness
  const rng = world.random('handoff-plan')
  const timings: Record<string, number> = {}
  const converge = async (names: string[], what: string) => {
    const started = world.now
    if (!(await world.runUntil(() => harness.converged(names), 15_000))) throw new Error(`cluster-handoff: ${what}: no convergence within 15 s\n${harness.describe()}`)
    timings[`${what}Ms`] = world.now - started
  }
  const streaming = (on: boolean) => {
    for (const s of senders) harness.app(s)!.extra.client.running = on
    world.note(`streaming ${on ? 'on' : 'off'}`)
  }
  return traced(world, async () => {
    const four = ['n1', 'n2', 'n3', 'n4']
    await converge(four, 'form')
    streaming(true)
    await world.runFor(rng.range(500, 1500))

    world.note('n5 joins')
    harness.addNode('n5')
    // Half the seeds start the leave while the join is still spreading.
    const overlap = rng.chance(0.5)
    if (overlap) await world.runFor(rng.range(300, 900))
    else {
      await converge(NAMES, 'join')
      await world.runFor(rng.range(100, 1200))
    }

    world.note('n2 leaves')
    harness.retired.add('n2')
    const leaver = harness.app('n2')!
    const left = leaver.cluster.leave()
    await world.waitFor(left, 15_000)
    const leftAt = world.now
    const handedOff = () => {
      const s = leaver.extra.sharding.stats()
      return s.entities === 0 && s.shardsActive + s.shardsHandingOff + s.shardsWaiting === 0 && s.buffered === 0
    }
    if (!(await world.runUntil(handedOff, 3 * HANDOFF_TIMEOUT_MS))) ledger.violation(`n2 still holds shards ${3 * HANDOFF_TIMEOUT_MS} ms after leaving: ${JSON.stringify(leaver.extra.sharding.stats())}`)
    timings.leaveHandoffMs = world.now - leftAt
    // The process exits once its shards are handed off.
    await world.waitFor(leaver.system.terminate(), 5000)
    world.crash('n2')
    await converge(['n1', 'n3', 'n4', 'n5'], 'leave')
    await world.runFor(rng.range(100, 1000))

    world.note('n2 comes back')
    harness.retired.delete('n2')
    world.restart('n2')
    await converge(NAMES, 'rejoin')
    await world.runFor(rng.range(500, 1500))
    streaming(false)
    const quiet = () => NAMES.every((n) => {
      const s = harness.app(n)?.extra.sharding.stats()
      return s !== undefined && s.shardsWaiting === 0 && s.shardsHandingOff === 0 && s.buffered === 0
    })
    await world.runUntil(quiet, 10_000)
    await world.runFor(5 * HANDOFF_TIMEOUT_MS) // every ask settles

    const violations = [...ledger.violations, ...ledger.check()]
    if (ledger.counts.answered !== ledger.counts.asked) violations.push(`${ledger.counts.asked - ledger.counts.answered} ask(s) never answered`)
    const activations = checkSingleActivation(log.entries, { mode: 'always', endMs: world.now })
    for (const v of activations.violations) violations.push(describeViolation(v))
    const result: ScenarioResult = {
      seed,
      traceHash: world.traceHash,
      events: world.traceEvents,
      virtualMs: world.now,
      stats: { ...ledger.counts, overlappingChanges: overlap ? 1 : 0, activations: activations.activations, ...timings, 'net.sent': world.network.stats.sent },
    }
    world.dispose()
    if (violations.length > 0) throw new Error(`cluster-handoff: ${violations.length} violation(s):\n  ${violations.slice(0, MAX_VIOLATIONS).join('\n  ')}`)
    return result
  })
}

export const clusterHandoff: Scenario = {
  name: 'cluster-handoff',
  description: 'clients stream numbered messages to entities while a node joins, one leaves gracefully and comes back: no loss, no duplicates, order per sender, one activation',
  run: (seed) => runClusterHandoff(seed),
}
