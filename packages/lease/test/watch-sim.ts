// Pushed watches on a simulated lease group: clients on their own nodes
// take and release a few names while watchers (on client nodes and on a
// member node, whose reads its own follower replica may serve) watch them.
// A nemesis partitions and crashes members and makes links lossy,
// duplicating and reordering; a script kills the group leader now and then.
// Checked: every watcher's revisions never go back; after healing, every
// watcher's last state equals a linearizable read of the name; and once
// idle, watches cost no reads.
import { Nemesis, SimWorld, traced } from '@troupe/testkit'
import type { ScenarioResult } from '@troupe/testkit'
import type { NameInfo } from '../src/core/commands.js'
import { Leases } from '../src/client/leases.js'
import { AppliedLeases, clientBoot, memberBoot, sleep } from './sim-harness.js'
import type { ClientApp, MemberApp } from './sim-harness.js'

export interface WatchSimOptions {
  /** Virtual ms under faults (default 10,000). */
  faultyMs?: number
}

interface Watcher {
  label: string
  name: string
  leases: Leases
  seen: NameInfo[]
  ctl: AbortController
}

const NAMES = ['a', 'b', 'c']
const holdersOf = (info: NameInfo) => info.holders.map((h) => `${h.clientId}#${h.requestId}@${h.token}`).join(',')

export async function runWatchSim(seed: number, options: WatchSimOptions = {}): Promise<ScenarioResult> {
  const members = ['n1', 'n2', 'n3']
  const clientNodes = ['c1', 'c2']
  const world = new SimWorld({
    seed,
    network: { latencyMs: { min: 1, max: 10 }, dropProbability: 0.01, duplicateProbability: 0.02, reorderProbability: 0.05, reorderMaxMs: 30 },
  })
  const applied = new AppliedLeases(() => world.now)
  const violations: string[] = []
  const watchers: Watcher[] = []
  const stats = { changes: 0, yielded: 0, leaderKills: 0, idleReads: 0, registrations: 0, events: 0 }
  let running = true
  let faulty = true
  const watchOptions = { requestTimeoutMs: 1000 }
  const memberWatchers = new Map<string, Leases>()

  const watch = (label: string, leases: Leases, name: string) => {
    const w: Watcher = { label, name, leases, seen: [], ctl: new AbortController() }
    watchers.push(w)
    void (async () => {
      try {
        for await (const info of leases.watch(name, { signal: w.ctl.signal })) {
          const last = w.seen.at(-1)
          if (last !== undefined && info.revision < last.revision) violations.push(`${label} on ${name}: revision ${info.revision} after ${last.revision}`)
          w.seen.push(info)
          stats.yielded++
        }
      } catch (err) {
        if (running) violations.push(`${label} on ${name}: watch failed: ${String(err)}`)
      }
    })()
  }

  /** Takes a random name for a moment, again and again. */
  const workload = async (app: ClientApp, leases: Leases): Promise<void> => {
    const rng = world.random(`worker:${leases.clientId}`)
    while (running) {
      const name = NAMES[rng.int(NAMES.length)]!
      try {
        const lease = await leases.acquire(name, { ttlMs: 1000, waitMs: 2000 })
        stats.changes++
        await sleep(app.system, rng.range(5, 200))
        await lease.release()
      } catch {
        // Timeouts under faults: try again.
      }
      await sleep(app.system, rng.range(10, 300))
    }
  }

  return traced(world, async () => {
    for (const m of members) {
      world.addNode(m, async (env) => {
        const app = await memberBoot(members, applied)(env)
        // n3 also runs a watcher: its reads may be served by its own (follower) replica.
        if (m === 'n3') memberWatchers.set(env.name, new Leases(app.system, app.group, watchOptions))
        return app
      })
    }
    for (const name of clientNodes) {
      world.addNode(name, clientBoot(members, 2, watchOptions, (app) => {
        void workload(app, app.leases[0]!)
      }))
    }
    await world.waitUntilUp(5000)
    await world.runFor(1000)
    for (const c of clientNodes) for (const n of NAMES) watch(`${c}`, world.node<ClientApp>(c).app.leases[1]!, n)
    const n3 = memberWatchers.get('n3')!
    for (const n of NAMES) watch('n3', n3, n)

    const rng = world.random('script')
    const nemeses = [
      new Nemesis(world, { targets: members, intervalMs: 800, durationMs: { min: 200, max: 2000 }, partitions: true, crashes: false, flakyLinks: true, maxActive: 2, maxDown: 1 }),
      new Nemesis(world, { targets: [...clientNodes, ...members], intervalMs: 1500, durationMs: { min: 100, max: 1500 }, partitions: true, flakyLinks: true, maxActive: 1 }),
    ]
    const killLeader = () => {
      if (!faulty) return
      const leader = members.find((m) => m !== 'n3' && world.node(m).up && world.node<MemberApp>(m).app.service.leading)
      if (leader !== undefined) {
        world.crash(leader)
        world.note(`killed leader ${leader}`)
        stats.leaderKills++
        world.after(rng.range(300, 1500), () => world.node(leader).state === 'down' && world.restart(leader), 'restart-leader')
      }
      world.after(rng.range(1500, 3500), killLeader, 'kill-leader')
    }
    for (const n of nemeses) n.start()
    world.after(rng.range(1000, 2000), killLeader, 'kill-leader')
    await world.runFor(options.faultyMs ?? 10_000)
    faulty = false
    for (const n of nemeses) n.stop()
    world.network.heal()
    world.network.configure({ dropProbability: 0, duplicateProbability: 0, reorderProbability: 0 })
    for (const name of world.nodeNames) if (world.node(name).state === 'down') world.restart(name)
    world.note('healed')
    await world.runFor(3000)
    running = false
    // Let the last releases land and the watchers hear of them (a beat, or a timeout and a read).
    await world.runFor(4000)

    // Convergence: each watcher's last state is the name's state now.
    const reader = world.node<ClientApp>('c1').app.leases[0]!
    for (const w of watchers) {
      const now = await world.waitFor(reader.get(w.name), 5000)
      const last = w.seen.at(-1)
      if (last === undefined) violations.push(`${w.label} on ${w.name}: yielded nothing`)
      else if (holdersOf(last) !== holdersOf(now)) violations.push(`${w.label} on ${w.name}: last yielded [${holdersOf(last)}] (rev ${last.revision}), the group says [${holdersOf(now)}] (rev ${now.revision})`)
    }
    // Idle: no changes, so no reads by the watches (beats only).
    const registrations = () => watchers.reduce((n, w) => n + w.leases.stats.watchRegistrations, 0) / 3
    const before = registrations()
    await world.runFor(10_000)
    stats.idleReads = registrations() - before
    if (stats.idleReads > 0) violations.push(`idle watches read ${stats.idleReads} times in 10 s`)
    stats.registrations = registrations()
    stats.events = watchers.reduce((n, w) => n + w.leases.stats.watchEvents, 0) / 3
    if (stats.changes < 20) violations.push(`only ${stats.changes} lease changes: the run tested little`)
    for (const w of watchers) w.ctl.abort()

    const result: ScenarioResult = { seed, traceHash: world.traceHash, events: world.traceEvents, virtualMs: world.now, stats: { ...stats, watchers: watchers.length } }
    world.dispose()
    if (violations.length > 0) throw new Error(`watch sim: ${violations.length} violation(s):\n  ${violations.slice(0, 20).join('\n  ')}`)
    return result
  })
}
