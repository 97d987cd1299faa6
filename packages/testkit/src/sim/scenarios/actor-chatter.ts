// Five nodes exchange actor messages (asks, tells, refs inside messages)
// while a nemesis partitions, crashes, pauses, skews clocks and makes links
// lossy, duplicating and reordering. Checked: every answer is the right one
// (no misrouted or corrupted message), failures are only the typed ones a
// faulty network explains, no frame is rejected as malformed, a durable boot
// counter survives crashes, and once the faults heal every node reaches
// every other again.
import { ActorSystem, defineActor, isTroupeError } from '@troupe/runtime'
import type { ActorRef, Disk } from '@troupe/runtime'
import { Nemesis } from '../nemesis.js'
import { traced } from '../scenario.js'
import type { Scenario, ScenarioResult } from '../scenario.js'
import type { NodeEnv } from '../sim-node.js'
import { SimWorld } from '../sim-world.js'

export interface ActorChatterOptions {
  nodes?: number
  /** Virtual ms of traffic under faults (default 8000). */
  faultyMs?: number
  /** Virtual ms after healing before liveness is checked (default 2000). */
  recoverMs?: number
  /** Mean virtual ms between nemesis faults (default 300). */
  nemesisIntervalMs?: number
}

type PingReply = { node: string; seq: number }
type PeerProtocol = {
  ping(p: { from: string; seq: number }): PingReply
  relay(p: { to: ActorRef<PeerProtocol>; from: string }): void
  note(p: { from: string; via: string }): void
}

/** Observations shared by all incarnations of all nodes (the harness survives crashes). */
class Observed {
  readonly violations: string[] = []
  readonly counts = { asked: 0, answered: 0, timedOut: 0, notFound: 0, unreachable: 0, relayed: 0, notes: 0, boots: 0 }
  /** Boot counter value each node last made durable. */
  readonly durableBoots = new Map<string, number>()

  violation(what: string): void {
    if (this.violations.length < 20) this.violations.push(what)
  }
}

const ALLOWED_FAILURES = new Set(['ASK_TIMEOUT', 'ACTOR_NOT_FOUND', 'NODE_UNREACHABLE'])

function peerDef(name: string, seen: Observed) {
  return defineActor({
    name: 'chatter-peer',
    initial: () => null,
    handlers: {
      ping: (_s, p: { from: string; seq: number }): PingReply => ({ node: name, seq: p.seq }),
      relay(_s, p: { to: ActorRef<PeerProtocol>; from: string }) {
        seen.counts.relayed++
        p.to.tell('note', { from: p.from, via: name })
      },
      note() {
        seen.counts.notes++
      },
    },
  })
}

function driverDef(env: NodeEnv, peers: string[], seen: Observed) {
  const me = env.name
  const others = peers.filter((p) => p !== me)
  return defineActor({
    name: 'chatter-driver',
    initial: () => ({ seq: 0 }),
    onStart: (_s, ctx) => ctx.timers.startPeriodic('tick', env.prng.range(20, 60), 'tick', undefined),
    handlers: {
      tick(s, _: void, ctx) {
        const target = env.prng.pick(others)
        const seq = ++s.seq
        const peer = ctx.system.remoteRef<PeerProtocol>(target, '/user/peer')
        seen.counts.asked++
        peer.ask('ping', { from: me, seq }, { timeoutMs: 250 }).then(
          (reply) => {
            seen.counts.answered++
            if (reply.node !== target || reply.seq !== seq) seen.violation(`${me} asked ${target} #${seq}, got ${JSON.stringify(reply)}`)
          },
          (err) => countFailure(seen, `${me} → ${target} #${seq}`, err),
        )
        // A ref to a third node's peer travels inside the message and is used on arrival.
        const third = ctx.system.remoteRef<PeerProtocol>(env.prng.pick(others), '/user/peer')
        peer.tell('relay', { to: third, from: me })
      },
    },
  })
}

function countFailure(seen: Observed, what: string, err: unknown): void {
  const code = isTroupeError(err) ? err.code : undefined
  if (code === 'ASK_TIMEOUT') seen.counts.timedOut++
  else if (code === 'ACTOR_NOT_FOUND') seen.counts.notFound++
  else if (code === 'NODE_UNREACHABLE') seen.counts.unreachable++
  if (code === undefined || !ALLOWED_FAILURES.has(code)) seen.violation(`${what} failed unexpectedly: ${String(err)}`)
}

/** Reads, bumps and durably rewrites the node's boot counter (write, sync, rename, syncDir). */
async function countBoot(disk: Disk, name: string, incarnation: number, seen: Observed): Promise<void> {
  const raw = await disk.read('boots')
  const before = raw === null ? 0 : Number(new TextDecoder().decode(raw))
  const durable = seen.durableBoots.get(name) ?? 0
  if (before < durable) seen.violation(`${name} boot #${incarnation}: counter ${before} lost the durable value ${durable}`)
  if (before > incarnation - 1) seen.violation(`${name} boot #${incarnation}: counter ${before} counts boots that never happened`)
  await disk.write('boots.tmp', new TextEncoder().encode(String(before + 1)))
  await disk.sync('boots.tmp')
  await disk.rename('boots.tmp', 'boots')
  await disk.syncDir('')
  seen.durableBoots.set(name, before + 1)
}

/** Runs the scenario once; throws (with the trace tail attached) when a property is violated. */
export async function runActorChatter(seed: number, options: ActorChatterOptions = {}): Promise<ScenarioResult> {
  const names = Array.from({ length: options.nodes ?? 5 }, (_, i) => `n${i + 1}`)
  const faultyMs = options.faultyMs ?? 8000
  const seen = new Observed()
  const world = new SimWorld({
    seed,
    network: { latencyMs: { min: 1, max: 30 }, dropProbability: 0.01, duplicateProbability: 0.01, reorderProbability: 0.02, reorderMaxMs: 40 },
  })
  return traced(world, async () => {
    for (const [i, name] of names.entries()) {
      world.addNode(
        name,
        async (env) => {
          seen.counts.boots++
          const system = new ActorSystem({ ...env.system, askTimeoutMs: 500 })
          system.events.on('inboundRejected', (r) => seen.violation(`${name} rejected a frame from ${r.from}: ${r.reason}`))
          await countBoot(env.disk, name, env.incarnation, seen)
          await system.start()
          system.spawn(peerDef(name, seen), { name: 'peer' })
          system.spawn(driverDef(env, names, seen), { name: 'driver' })
          return { system }
        },
        // Machines disagree about time: one runs ahead, one runs fast.
        { clockSkewMs: i === 1 ? 250 : 0, clockRate: i === 3 ? 1.0005 : 1, disk: { latencyMs: { min: 0.05, max: 2 } } },
      )
    }
    await world.waitUntilUp(1000)

    const nemesis = new Nemesis(world, {
      intervalMs: options.nemesisIntervalMs ?? 300,
      durationMs: { min: 100, max: 1500 },
      partitions: true,
      crashes: true,
      pauses: true,
      clockSkew: true,
      flakyLinks: true,
      maxActive: 3,
    }).start()
    // One crash and restart always happens, whatever the nemesis draws.
    const victim = names[2]!
    world.at(world.now + faultyMs / 3, () => {
      if (world.node(victim).up) world.crash(victim)
    })
    world.at(world.now + faultyMs / 2, () => {
      if (world.node(victim).state === 'down') world.restart(victim)
    })
    await world.runFor(faultyMs)

    nemesis.stop()
    world.network.heal()
    world.network.configure({ dropProbability: 0, duplicateProbability: 0, reorderProbability: 0 })
    for (const name of names) if (world.node(name).state === 'down') world.restart(name)
    world.note('healed')
    await world.runFor(options.recoverMs ?? 2000)

    // Liveness: with the faults gone, every node reaches every other node.
    let reached = 0
    const checks: Promise<void>[] = []
    for (const from of names) {
      for (const to of names) {
        if (from === to) continue
        const ask = world.node(from).system.remoteRef<PeerProtocol>(to, '/user/peer').ask('ping', { from, seq: -1 }, { timeoutMs: 1000 })
        checks.push(
          ask.then(
            (reply) => {
              if (reply.node === to) reached++
              else seen.violation(`final ${from} → ${to} answered by ${reply.node}`)
            },
            (err) => seen.violation(`final ${from} → ${to} failed after healing: ${String(err)}`),
          ),
        )
      }
    }
    await world.waitFor(Promise.all(checks), 2000)
    if (reached !== names.length * (names.length - 1)) seen.violation(`only ${reached} of ${names.length * (names.length - 1)} pairs reachable after healing`)
    if (seen.counts.answered === 0) seen.violation('no ask was ever answered: the scenario tested nothing')

    const result: ScenarioResult = {
      seed,
      traceHash: world.traceHash,
      events: world.traceEvents,
      virtualMs: world.now,
      stats: {
        ...seen.counts,
        ...prefixed('net.', { ...world.network.stats }),
        ...prefixed('nemesis.', { ...nemesis.counts }),
      },
    }
    world.dispose()
    if (seen.violations.length > 0) throw new Error(`actor-chatter: ${seen.violations.length} violation(s):\n  ${seen.violations.join('\n  ')}`)
    return result
  })
}

function prefixed(prefix: string, counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [prefix + k, v]))
}

export const actorChatter: Scenario = {
  name: 'actor-chatter',
  description: '5 nodes exchange asks, tells and refs under partitions, crashes, pauses, clock faults and lossy links',
  run: (seed) => runActorChatter(seed),
}
