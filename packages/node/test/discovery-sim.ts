// Cluster Bootstrap in the simulator: nodes boot at seeded random times on a
// SimWorld, each with a discovery that lies for a while (a random subset or
// a stale list), probes that travel with latency, get lost or hang, and the
// real runtime Cluster on the simulated network, started with the seeds
// bootstrap chose. What happened goes into a report the tests check.
import { ActorSystem, Cluster } from '@troupe/runtime'
import type { ClusterOptions } from '@troupe/runtime'
import { SimWorld } from '@troupe/testkit'
import type { NodeEnv, Prng } from '@troupe/testkit'
import { bootstrapSeeds } from '../src/discovery/bootstrap-seeds.js'
import type { Decision } from '../src/discovery/bootstrap-core.js'
import type { BootstrapTunables } from '../src/discovery/bootstrap-tunables.js'
import { contactKey } from '../src/discovery/contact.js'
import type { Contact } from '../src/discovery/contact.js'
import { DiscoveryError } from '../src/discovery/discovery-error.js'
import type { Discovery } from '../src/discovery/discovery-method.js'
import type { ProbeAnswer } from '../src/discovery/probe-answer.js'

const TIMINGS: ClusterOptions = { heartbeatIntervalMs: 200, gossipIntervalMs: 200, acceptableHeartbeatPauseMs: 600, stableAfterMs: 2000, seedTimeoutMs: 600 }

export interface BootstrapSimOptions {
  nodes?: number
  /** Every node boots at a random time in [0, startSpreadMs] (default 5000). */
  startSpreadMs?: number
  /** Fixed boot times instead (one per node). */
  startsMs?: number[]
  /** Discovery lists a node from the start (DNS publishing not-ready addresses) or once it runs (pods Running); default: random. */
  listed?: 'start' | 'boot'
  /** For a random [0, divergenceMaxMs] after its boot, a node's discovery lies (default 2000). */
  divergenceMaxMs?: number
  /** Chance that a probe is lost (answered by a failure) or hangs (no answer) (default 0.1 each). */
  probeLossRate?: number
  probeHangRate?: number
  /** Probe latency each way, uniform in virtual ms (default 1-40). */
  probeLatencyMs?: { min: number; max: number }
  /** Global time window in which every lookup fails. */
  discoveryOutage?: { fromMs: number; toMs: number }
  tunables?: Partial<BootstrapTunables>
  /** Virtual time to wait for one cluster of all nodes (default 40 s). */
  maxMs?: number
}

export interface BootstrapSimReport {
  seed: number
  /** Every node up in one membership of all nodes. */
  converged: boolean
  forms: string[]
  joins: string[]
  /** Decisions by kind over the run, per node. */
  decisions: Record<string, { wait: number; join: number; form: number }>
  /** Up members each node sees at the end. */
  views: Record<string, string[]>
  /** When each node's bootstrap decided (virtual ms). */
  decidedAtMs: Record<string, number>
  startsMs: Record<string, number>
  lookupFailures: number
  endMs: number
  describe(): string
}

interface SimNodeApp {
  readonly system: ActorSystem
  cluster: Cluster | null
}

/** Runs one seed: boots the nodes, lets bootstrap and the Cluster run, reports. */
export async function runBootstrapSim(seed: number, options: BootstrapSimOptions = {}): Promise<BootstrapSimReport> {
  const n = options.nodes ?? 5
  const world = new SimWorld({ seed })
  const rng = world.random('bootstrap-sim')
  const names = Array.from({ length: n }, (_, i) => `n${i + 1}`)
  // Addresses in random order, so the lowest-address node is any of them.
  const octets = rng.shuffle(names.map((_, i) => 10 + i))
  const address = new Map(names.map((name, i) => [name, `sim://10.0.0.${octets[i]}:7000`]))
  const contactOf = new Map(names.map((name, i) => [name, { host: `10.1.0.${i + 1}`, port: 8558 }]))
  const nodeAt = new Map(names.map((name) => [contactKey(contactOf.get(name)!), name]))
  const startsMs = Object.fromEntries(names.map((name, i) => [name, options.startsMs?.[i] ?? rng.range(0, options.startSpreadMs ?? 5000)]))
  const lieForMs = Object.fromEntries(names.map((name) => [name, rng.range(0, options.divergenceMaxMs ?? 2000)]))
  const lieMode = Object.fromEntries(names.map((name) => [name, rng.pick(['subset', 'stale'] as const)]))
  // Whether discovery lists a node from the start (DNS publishing not-ready addresses) or once it runs (pods Running).
  const listedFrom = options.listed ?? rng.pick(['start', 'boot'] as const)
  const states = new Map<string, () => ProbeAnswer>()
  const apps = new Map<string, SimNodeApp>()
  const decisions: BootstrapSimReport['decisions'] = Object.fromEntries(names.map((name) => [name, { wait: 0, join: 0, form: 0 }]))
  const decidedAtMs: Record<string, number> = {}
  const forms: string[] = []
  const joins: string[] = []
  let lookupFailures = 0

  const truth = (atMs: number): Contact[] => names.filter((name) => listedFrom === 'start' || startsMs[name]! <= atMs).map((name) => contactOf.get(name)!)

  const discoveryFor = (name: string, clock: NodeEnv['clock'], r: Prng): Discovery => {
    const staleList = truth(startsMs[name]! - r.range(0, 2000))
    return {
      backend: 'sim',
      lookup: () =>
        new Promise((resolve, reject) => {
          clock.setTimer(r.range(1, 30), () => {
            const now = world.now
            const outage = options.discoveryOutage
            if (outage && now >= outage.fromMs && now < outage.toMs) {
              lookupFailures++
              return reject(new DiscoveryError('DISCOVERY_FAILED', 'sim', 'outage'))
            }
            const full = truth(now)
            if (now - startsMs[name]! >= lieForMs[name]!) return resolve(full)
            resolve(lieMode[name] === 'stale' ? staleList : full.filter(() => r.chance(0.5)))
          })
        }),
    }
  }

  const probeFrom = (clock: NodeEnv['clock'], r: Prng) => (contact: Contact, signal: AbortSignal): Promise<ProbeAnswer> =>
    new Promise((resolve, reject) => {
      const latency = options.probeLatencyMs ?? { min: 1, max: 40 }
      const lost = r.chance(options.probeLossRate ?? 0.1)
      const hangs = r.chance(options.probeHangRate ?? 0.1)
      clock.setTimer(r.range(latency.min, latency.max), () => {
        const target = nodeAt.get(contactKey(contact))
        const state = target === undefined ? undefined : states.get(target)
        if (hangs || signal.aborted) return
        if (lost || state === undefined) return reject(new DiscoveryError('PROBE_FAILED', 'probe', `${contactKey(contact)} refused`))
        const answer = state() // read at arrival, as the route would
        clock.setTimer(r.range(latency.min, latency.max), () => resolve(answer))
      })
    })

  const boot = async (env: NodeEnv): Promise<SimNodeApp> => {
    const { name } = env
    const self = { node: name, address: address.get(name)! }
    const system = new ActorSystem({ ...env.system, askTimeoutMs: 1000 })
    await system.start()
    const app: SimNodeApp = { system, cluster: null }
    apps.set(name, app)
    states.set(name, () => ({ ...self, members: app.cluster?.members().filter((m) => m.status !== 'down' && m.status !== 'removed').map((m) => ({ node: m.node, address: m.address })) ?? [] }))
    const r = world.random(`node:${name}`)
    const onDecision = (d: Decision) => {
      decisions[name]![d.kind]++
    }
    void bootstrapSeeds({
      self,
      discovery: { method: 'contacts', contacts: [] },
      secret: 'sim-secret',
      clock: env.clock,
      timers: { setTimeout: (fn, ms) => env.clock.setTimer(ms, fn), clearTimeout: (h) => env.clock.clearTimer(h as never) },
      log: () => {},
      state: states.get(name)!,
      lookup: discoveryFor(name, env.clock, r),
      probe: probeFrom(env.clock, r),
      onDecision,
      ...options.tunables,
    }).then((seeds) => {
      // Started in the same turn as the decision: the next probe sees the membership.
      app.cluster = Cluster.start(system, { ...TIMINGS, address: self.address, seeds, incarnation: env.incarnation, transport: env.transport })
      decidedAtMs[name] = world.now
      ;(seeds.length === 1 && seeds[0]!.node === name ? forms : joins).push(name)
    }, (err) => world.note(`bootstrap of ${name} failed: ${String(err)}`))
    return app
  }

  for (const name of names) world.at(startsMs[name]!, () => void world.addNode(name, boot), `start ${name}`)

  const want = names.join(',')
  const view = (name: string) => apps.get(name)?.cluster?.upMembers() ?? []
  const converged = () => names.every((name) => apps.get(name)?.cluster?.isUp === true && view(name).join(',') === want)
  let ok = false
  try {
    ok = await world.runUntil(converged, options.maxMs ?? 40_000)
  } finally {
    world.dispose()
  }
  const report: BootstrapSimReport = {
    seed,
    converged: ok,
    forms,
    joins,
    decisions,
    views: Object.fromEntries(names.map((name) => [name, view(name)])),
    decidedAtMs,
    startsMs,
    lookupFailures,
    endMs: world.now,
    describe: () =>
      names
        .map((name) => `${name} ${address.get(name)} start=${startsMs[name]} lies ${lieForMs[name]}ms (${lieMode[name]}) decided@${decidedAtMs[name] ?? '-'} view=[${view(name).join(',')}]`)
        .concat([`listed from ${listedFrom}; forms=[${forms.join(',')}]; end ${world.now} ms`])
        .join('\n'),
  }
  return report
}
