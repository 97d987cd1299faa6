// Jepsen's etcd lock workload on a simulated lease group: clients on their
// own nodes take the lease 'job', read a fenced counter, write it plus one,
// and release. A nemesis partitions, crashes and pauses nodes, drifts
// clocks and makes links lossy, duplicating and reordering; a script kills
// the group leader now and then; client nodes are paused for longer than
// the TTL, and now and then frozen: paused with their clock stopped too (a
// suspended VM whose monotonic clock did not advance), so a holder wakes up
// believing its lease still runs and acts on it; only the fence stops it.
// Checked over the recorded history:
//   1–3 with the testkit lease-safety checker (one exclusive holder per log
//       index, increasing tokens, the counter never takes a stale token,
//       replicas agree);
//   the counter: no lost and no doubled increment;
//   5: no client passed `lease.check()` after the group had expired its lease,
//      unless its clock was frozen since it asked for the lease (guarantee 5
//      assumes clocks that run).
import { checkLeaseSafety } from '@troupe/testkit'
import { Nemesis, SimWorld } from '@troupe/testkit'
import { traced } from '@troupe/testkit'
import type { ScenarioResult } from '@troupe/testkit'
import type { Lease } from '../src/client/lease.js'
import type { Leases } from '../src/client/leases.js'
import { AppliedLeases, clientBoot, CounterLog, counterDef, memberBoot, sleep } from './sim-harness.js'
import type { ClientApp, CounterProtocol, MemberApp } from './sim-harness.js'
import { ActorSystem } from '@troupe/runtime'

export interface LeaseSimOptions {
  members?: number
  clientNodes?: number
  clientsPerNode?: number
  ttlMs?: number
  /** Virtual ms under faults (default 12,000). */
  faultyMs?: number
  /** Virtual ms after healing (default 4,000). */
  recoverMs?: number
  /** Run the nemeses, the leader killer and the clock freezes (default true). */
  faults?: boolean
}

interface Stats {
  acquired: number
  acquireFailed: number
  increments: number
  unknownWrites: number
  fencedReads: number
  fencedWrites: number
  lostBeforeWrite: number
  checksPassed: number
  leaderKills: number
  clockFreezes: number
  /** check() passed by a holder whose clock was frozen since it asked: exempt from 5, left to the fence. */
  frozenChecks: number
}

export async function runLeaseSim(seed: number, options: LeaseSimOptions = {}): Promise<ScenarioResult> {
  const ttlMs = options.ttlMs ?? 1000
  const members = Array.from({ length: options.members ?? 3 }, (_, i) => `n${i + 1}`)
  const clientNodes = Array.from({ length: options.clientNodes ?? 3 }, (_, i) => `c${i + 1}`)
  const world = new SimWorld({
    seed,
    traceLines: process.env.LEASE_SIM_DEBUG ? 200_000 : 200,
    network: { latencyMs: { min: 1, max: 10 }, dropProbability: 0.01, duplicateProbability: 0.02, reorderProbability: 0.05, reorderMaxMs: 30 },
  })
  const applied = new AppliedLeases(() => world.now)
  const counter = new CounterLog()
  const violations: string[] = []
  const stats: Stats = {
    acquired: 0, acquireFailed: 0, increments: 0, unknownWrites: 0, fencedReads: 0, fencedWrites: 0, lostBeforeWrite: 0, checksPassed: 0, leaderKills: 0,
    clockFreezes: 0, frozenChecks: 0,
  }
  /** Global time each client node's last clock freeze ended. */
  const frozenUntil = new Map<string, number>()
  /** Client nodes with a client between a grant and its release: where a freeze makes a stale holder. */
  const holding = new Map<string, number>()
  /** Every time a holder passed `check()`: it then acted as the holder. */
  const checks: Array<{ holder: string; atMs: number; frozen: boolean }> = []
  /** Increments whose write the counter acknowledged, and those whose outcome is unknown. */
  const acked: Array<{ token: number; value: number }> = []
  let running = true
  let faulty = true

  const held = (lease: Lease, leases: Leases, node: string, askedAt: number): boolean => {
    if (!lease.held) return false
    const frozen = (frozenUntil.get(node) ?? -Infinity) > askedAt
    checks.push({ holder: `${leases.clientId}#${lease.requestId}`, atMs: world.now, frozen })
    stats.checksPassed++
    if (frozen) stats.frozenChecks++
    return true
  }

  /** One client: acquire, read, write +1, release; again. */
  const workload = async (app: ClientApp, leases: Leases): Promise<void> => {
    const db = app.system.remoteRef<CounterProtocol>('db', '/user/counter')
    const rng = world.random(`client:${leases.clientId}`)
    const node = app.system.name
    while (running) {
      let lease: Lease
      const askedAt = world.now
      try {
        lease = await leases.acquire('job', { ttlMs, waitMs: 4000 })
        stats.acquired++
      } catch (err) {
        stats.acquireFailed++
        const code = (err as { code?: string }).code
        if (!['LEASE_TIMEOUT', 'UNAVAILABLE'].includes(code ?? '')) violations.push(`acquire failed: ${String(err)}`)
        await sleep(app.system, rng.range(10, 100))
        continue
      }
      const holder = `${leases.clientId}#${lease.requestId}`
      holding.set(node, (holding.get(node) ?? 0) + 1)
      try {
        if (!held(lease, leases, node, askedAt)) continue
        const read = await db.ask('read', { token: lease.token, holder }, { timeoutMs: 300 })
        if (!read.ok) {
          stats.fencedReads++
          continue
        }
        if (!held(lease, leases, node, askedAt)) {
          stats.lostBeforeWrite++
          continue
        }
        const value = read.value + 1
        const wrote = await db.ask('write', { token: lease.token, holder, value }, { timeoutMs: 300 }).catch(() => null)
        if (wrote === null) stats.unknownWrites++
        else if (wrote.ok) {
          stats.increments++
          acked.push({ token: lease.token, value })
        } else stats.fencedWrites++
      } catch {
        // A read that timed out: nothing written.
      } finally {
        holding.set(node, holding.get(node)! - 1)
        await lease.release()
      }
      await sleep(app.system, rng.range(0, 30))
    }
  }

  return traced(world, async () => {
    // Members' clocks disagree by seconds (constant offsets): expiry must not depend on it.
    const skews = [0, 4000, -3000, 1500, -700]
    members.forEach((name, i) => {
      world.addNode(name, memberBoot(members, applied), { clockSkewMs: skews[i % skews.length]!, disk: { tornWrites: true, latencyMs: { min: 0.05, max: 1 } } })
    })
    world.addNode('db', async (env) => {
      const system = new ActorSystem({ ...env.system })
      await system.start()
      system.spawn(counterDef(counter, () => world.now), { name: 'counter' })
      return { system }
    })
    for (const name of clientNodes) {
      world.addNode(name, clientBoot(members, options.clientsPerNode ?? 2, {}, (app) => {
        for (const leases of app.leases) void workload(app, leases)
      }))
    }
    await world.waitUntilUp(5000)

    const rng = world.random('script')
    const nemeses = [
      new Nemesis(world, {
        targets: members, intervalMs: 700, durationMs: { min: 200, max: 2000 }, partitions: true, crashes: true,
        clockSkew: { maxSkewMs: 0, maxDrift: 0.005 }, flakyLinks: true, maxActive: 2, maxDown: 1,
      }),
      new Nemesis(world, {
        targets: clientNodes, intervalMs: 600, durationMs: { min: ttlMs + 200, max: 3 * ttlMs }, pauses: true,
        clockSkew: { maxSkewMs: 0, maxDrift: 0.005 }, maxActive: 2, maxDown: 2,
      }),
      new Nemesis(world, { targets: [...clientNodes, 'db', ...members], intervalMs: 1500, durationMs: { min: 100, max: 1000 }, flakyLinks: true, maxActive: 1 }),
    ]
    // Kill the leader now and then; it comes back 0.3–1.5 s later.
    const killLeader = () => {
      if (!faulty) return
      const leader = members.find((m) => world.node(m).up && world.node<MemberApp>(m).app.service.leading)
      if (leader !== undefined && !world.node(leader).paused) {
        world.crash(leader)
        world.note(`killed leader ${leader}`)
        stats.leaderKills++
        world.after(rng.range(300, 1500), () => world.node(leader).state === 'down' && world.restart(leader), 'restart-leader')
      }
      world.after(rng.range(1500, 3500), killLeader, 'kill-leader')
    }

    // A client node stops, clock and all, for longer than the TTL; its clock then reads on from where it stopped.
    const freezeClient = () => {
      if (!faulty) return
      // Not under a clock fault: its end restores the clock as it was before the fault, undoing the freeze.
      const clockFaulted = (n: string) => nemeses.some((x) => x.activeFaults.some((f) => f.startsWith(`clock ${n} `)))
      const candidates = clientNodes.filter((n) => world.node(n).up && !world.node(n).paused && !clockFaulted(n))
      const holders = candidates.filter((n) => (holding.get(n) ?? 0) > 0)
      if (candidates.length > 0) {
        const name = rng.pick(holders.length > 0 ? holders : candidates)
        const ms = rng.range(ttlMs + 200, 3 * ttlMs)
        const skew = world.node(name).clockModel.skewAt(world.now)
        world.pause(name, ms)
        world.setClock(name, { skewMs: skew - ms })
        frozenUntil.set(name, world.now + ms)
        stats.clockFreezes++
      }
      world.after(rng.range(600, 1500), freezeClient, 'freeze-client')
    }

    await world.runFor(1000)
    if (options.faults !== false) {
      for (const n of nemeses) n.start()
      world.after(rng.range(1000, 2000), killLeader, 'kill-leader')
      world.after(rng.range(500, 1500), freezeClient, 'freeze-client')
    }
    await world.runFor(options.faultyMs ?? 12_000)
    faulty = false
    for (const n of nemeses) n.stop()
    world.network.heal()
    world.network.configure({ dropProbability: 0, duplicateProbability: 0, reorderProbability: 0 })
    for (const name of world.nodeNames) if (world.node(name).state === 'down') world.restart(name)
    world.note('healed')
    const beforeRecover = stats.increments
    await world.runFor(options.recoverMs ?? 4000)
    running = false
    if (stats.increments === beforeRecover) {
      violations.push('no increment after the faults healed: the lease is stuck')
      if (process.env.LEASE_SIM_DEBUG) {
        for (const m of members) {
          if (!world.node(m).up) {
            console.log(m, world.node(m).state)
            continue
          }
          const app = world.node<MemberApp>(m).app
          const st = await world.waitFor(app.group.status(), 1000).catch((e) => String(e))
          console.log(m, JSON.stringify(st), JSON.stringify(app.service.table?.info('job')), JSON.stringify(app.service.stats))
        }
        console.log(world.recentTrace().filter((l) => /note|crash|restart|up#|boot/.test(l)).join('\n'))
        console.log(nemeses.map((n) => n.log.join('\n')).join('\n--\n'))
      }
    }
    await world.runFor(3 * ttlMs)

    // 1–3: the replicated history and the fenced counter.
    for (const v of checkLeaseSafety({ log: applied.log(), replicas: applied.replicaLogs(), fence: counter.fence }, { tokenIsIndex: true })) {
      violations.push(`${v.rule}: ${v.message}`)
    }
    // The counter: each value written under one token only (else an increment was lost), no gaps,
    // every acknowledged increment present.
    const writers = new Map<number, Set<number>>()
    for (const w of counter.writes) (writers.get(w.value) ?? writers.set(w.value, new Set()).get(w.value)!).add(w.token)
    for (const [value, tokens] of writers) if (tokens.size > 1) violations.push(`lost increment: value ${value} written under tokens ${[...tokens].join(', ')}`)
    for (let v = 1; v <= counter.value; v++) if (!writers.has(v)) violations.push(`counter skipped value ${v}`)
    if (counter.value !== writers.size) violations.push(`counter is ${counter.value} after ${writers.size} distinct increments`)
    for (const a of acked) if (!writers.get(a.value)?.has(a.token)) violations.push(`acknowledged increment to ${a.value} (token ${a.token}) is missing`)
    if (!(acked.length <= counter.value && counter.value <= acked.length + stats.unknownWrites)) {
      violations.push(`counter ${counter.value} outside [acked ${acked.length}, acked + unknown ${acked.length + stats.unknownWrites}]`)
    }
    // 5: nobody acted as holder after the group expired its lease.
    for (const c of checks) {
      if (c.frozen) continue
      const expired = applied.expiredAt('job', c.holder)
      if (expired !== undefined && expired <= c.atMs) violations.push(`${c.holder} passed check() at ${c.atMs}, but its lease expired at ${expired}`)
    }
    if (stats.increments < 10) violations.push(`only ${stats.increments} increments: the run tested little`)

    const result: ScenarioResult = {
      seed,
      traceHash: world.traceHash,
      events: world.traceEvents,
      virtualMs: world.now,
      stats: {
        ...stats, counter: counter.value, grants: applied.log().filter((e) => e.kind === 'grant').length,
        expired: applied.log().filter((e) => e.kind === 'end' && e.reason === 'expired').length,
        ...Object.fromEntries(nemeses.flatMap((n, i) => Object.entries(n.counts).filter(([, v]) => v > 0).map(([k, v]) => [`nemesis${i}.${k}`, v]))),
      },
    }
    world.dispose()
    if (violations.length > 0) throw new Error(`lease sim: ${violations.length} violation(s):\n  ${violations.slice(0, 20).join('\n  ')}`)
    return result
  })
}
