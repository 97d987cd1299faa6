// Strict single activation of sharded entities, in simulation. Three app
// nodes run sharding with leaseActivationGuard on a 3-member lease group;
// each entity is a counter whose state lives in a store node behind a
// FenceGuard per entity (reads and writes carry the activation's token).
// A script gives the app nodes disagreeing membership views all the time
// (each believes it owns shards the others also own: the split brain that
// sharding alone cannot prevent), while a nemesis partitions, crashes and
// pauses nodes (pauses longer than the TTL), drifts clocks and makes links
// lossy, duplicating and reordering. Checked:
//   (a) per entity, the handlers that ran, in real (global) time, carry
//       non-decreasing tokens: two activations never interleave;
//   (b) per entity, the store's accepted writes go 1, 2, 3, ...: no lost and
//       no doubled increment, although views disagreed throughout;
//   (c) the lease checker over the replicated history;
//   (d) after healing, with one view everywhere, every entity answers.
// `guard: false` runs the same workload without the guard: (b) then fails
// (the test keeps one such seed to show the check can fail).
import { ActorSystem, FixedMembershipView, Sharding, defineActor, entityActivation, entityId } from '@troupe/runtime'
import type { ActorRef } from '@troupe/runtime'
import { group } from '@troupe/raft'
import { checkLeaseSafety, Nemesis, SimWorld, traced } from '@troupe/testkit'
import type { FenceEvent, ScenarioResult } from '@troupe/testkit'
import { leaseActivationGuard } from '../src/entity-activation.js'
import { FenceGuard } from '../src/fence-guard.js'
import { Leases } from '../src/client/leases.js'
import type { LeaseRaftGroup } from '../src/server/raft-lease-group.js'
import { AppliedLeases, GROUP_ID, HOST, memberBoot, sleep } from './sim-harness.js'

export interface EntityActivationSimOptions {
  /** Run sharding with leaseActivationGuard (default true). */
  guard?: boolean
  /** Virtual ms of faults (default 10,000). */
  faultyMs?: number
  entities?: number
  ttlMs?: number
}

type ReadResult = { ok: true; value: number } | { ok: false; highest: number }
type WriteResult = { ok: true } | { ok: false; highest: number }

type StoreProtocol = {
  read(p: { id: string; token: number; node: string }): ReadResult
  write(p: { id: string; token: number; node: string; value: number; writeId: string }): WriteResult
}

type AccountProtocol = {
  incr(p: void): { ok: true; value: number } | { ok: false }
}

/** The store: one FenceGuard per entity; a write id it has applied is not applied again (the network duplicates). */
class Store {
  readonly guards = new Map<string, FenceGuard>()
  readonly values = new Map<string, number>()
  readonly writes = new Map<string, Array<{ token: number; value: number; node: string }>>()
  readonly fence: FenceEvent[] = []
  private readonly applied = new Set<string>()

  constructor(private readonly now: () => number) {}

  private judge(id: string, token: number, node: string): boolean {
    let guard = this.guards.get(id)
    if (guard === undefined) this.guards.set(id, (guard = new FenceGuard({ resource: id })))
    const accepted = guard.accept(token)
    this.fence.push({ resource: id, name: `entity/acct/${id}`, token, accepted, holder: node, timeMs: this.now() })
    return accepted
  }

  def() {
    return defineActor({
      name: 'store',
      initial: () => null,
      handlers: {
        read: (_s, p: { id: string; token: number; node: string }): ReadResult =>
          this.judge(p.id, p.token, p.node) ? { ok: true, value: this.values.get(p.id) ?? 0 } : { ok: false, highest: this.guards.get(p.id)!.highestToken },
        write: (_s, p: { id: string; token: number; node: string; value: number; writeId: string }): WriteResult => {
          if (this.applied.has(p.writeId)) return { ok: true }
          if (!this.judge(p.id, p.token, p.node)) return { ok: false, highest: this.guards.get(p.id)!.highestToken }
          this.applied.add(p.writeId)
          this.values.set(p.id, p.value)
          const list = this.writes.get(p.id) ?? []
          list.push({ token: p.token, value: p.value, node: p.node })
          this.writes.set(p.id, list)
          return { ok: true }
        },
      },
    })
  }
}

interface HandlerRun {
  id: string
  token: number
  node: string
  atMs: number
}

const MEMBERS = ['n1', 'n2', 'n3']
const APPS = ['s1', 's2', 's3']

export async function runEntityActivationSim(seed: number, options: EntityActivationSimOptions = {}): Promise<ScenarioResult> {
  const guarded = options.guard ?? true
  const ttlMs = options.ttlMs ?? 1000
  const ids = Array.from({ length: options.entities ?? 6 }, (_, i) => `a${i}`)
  const world = new SimWorld({
    seed,
    traceLines: 200,
    network: { latencyMs: { min: 1, max: 10 }, dropProbability: 0.01, duplicateProbability: 0.02, reorderProbability: 0.05, reorderMaxMs: 30 },
  })
  const applied = new AppliedLeases(() => world.now)
  const store = new Store(() => world.now)
  const runs: HandlerRun[] = []
  const views = new Map<string, FixedMembershipView>()
  const shardings = new Map<string, Sharding>()
  const counts = { asked: 0, answered: 0, fenced: 0, timeouts: 0, viewChanges: 0 }
  let writeSeq = 0
  let running = true

  const accountDef = (node: string, storeRef: ActorRef<StoreProtocol>) =>
    defineActor({
      name: 'acct',
      // Without a guard every activation writes as token 1: the fence then lets two activations interleave.
      initial: (ctx) => ({ id: entityId(ctx), token: entityActivation(ctx)?.token ?? 1, value: null as number | null }),
      handlers: {
        async incr(s, _p: void, ctx): Promise<{ ok: true; value: number } | { ok: false }> {
          runs.push({ id: s.id, token: s.token, node, atMs: world.now })
          try {
            if (s.value === null) {
              const read = await storeRef.ask('read', { id: s.id, token: s.token, node }, { timeoutMs: 300 })
              if (!read.ok) {
                counts.fenced++
                ctx.stop() // a newer activation exists: this one is stale
                return { ok: false }
              }
              s.value = read.value
            }
            const value = s.value + 1
            const wrote = await storeRef.ask('write', { id: s.id, token: s.token, node, value, writeId: `${node}:${++writeSeq}` }, { timeoutMs: 300 })
            if (!wrote.ok) {
              counts.fenced++
              ctx.stop()
              return { ok: false }
            }
            s.value = value
            return { ok: true, value }
          } catch {
            s.value = null // the write's outcome is unknown: read again next time
            return { ok: false }
          }
        },
      },
    })

  const appBoot = (name: string) => async (env: Parameters<Parameters<SimWorld['addNode']>[1]>[0]) => {
    const system = new ActorSystem({ ...env.system, askTimeoutMs: 2000 })
    await system.start()
    const handle = (await group(system, { id: GROUP_ID, members: MEMBERS, requestTimeoutMs: 2000, attemptTimeoutMs: 500, host: HOST })) as unknown as LeaseRaftGroup
    const leases = new Leases(system, handle, { requestTimeoutMs: 1000 })
    const view = new FixedMembershipView(name, APPS)
    views.set(name, view)
    const sharding = Sharding.start(system, view, {
      shards: 16,
      handoffTimeoutMs: 500,
      passivateAfterMs: 1500,
      tickMs: 50,
      ...(guarded ? { activationGuard: leaseActivationGuard(leases, { ttlMs }) } : {}),
    })
    const Account = accountDef(name, system.remoteRef<StoreProtocol>('db', '/user/store'))
    sharding.register(Account)
    shardings.set(name, sharding)
    const rng = world.random(`traffic:${name}#${env.incarnation}`)
    void (async () => {
      while (running) {
        const id = ids[rng.int(ids.length)]!
        counts.asked++
        try {
          const r = await sharding.entity<AccountProtocol>(Account, id).ask('incr', undefined, { timeoutMs: 1500 })
          if (r.ok) counts.answered++
        } catch {
          counts.timeouts++
        }
        await sleep(system, rng.range(5, 60))
      }
    })()
    return { system, sharding, Account }
  }

  return traced(world, async () => {
    MEMBERS.forEach((name) => world.addNode(name, memberBoot(MEMBERS, applied), { disk: { tornWrites: true, latencyMs: { min: 0.05, max: 1 } } }))
    world.addNode('db', async (env) => {
      const system = new ActorSystem({ ...env.system })
      await system.start()
      system.spawn(store.def(), { name: 'store' })
      return { system }
    })
    for (const name of APPS) world.addNode(name, appBoot(name))
    await world.waitUntilUp(5000)

    // Views that disagree: each app node now and then believes a random set of peers is up.
    const script = world.random('views')
    let viewsChurn = true
    const churn = () => {
      if (!viewsChurn) return
      const name = APPS[script.int(APPS.length)]!
      const others = APPS.filter((n) => n !== name && script.chance(0.5))
      views.get(name)?.set([name, ...others])
      counts.viewChanges++
      world.after(script.range(100, 600), churn, 'view-churn')
    }
    const nemeses = [
      new Nemesis(world, { targets: MEMBERS, intervalMs: 900, durationMs: { min: 200, max: 2000 }, partitions: true, crashes: true, clockSkew: { maxSkewMs: 0, maxDrift: 0.005 }, maxActive: 1, maxDown: 1 }),
      new Nemesis(world, { targets: APPS, intervalMs: 700, durationMs: { min: ttlMs + 200, max: 3 * ttlMs }, pauses: true, partitions: true, clockSkew: { maxSkewMs: 0, maxDrift: 0.005 }, maxActive: 2 }),
      new Nemesis(world, { targets: [...APPS, 'db', ...MEMBERS], intervalMs: 1500, durationMs: { min: 100, max: 800 }, flakyLinks: true, maxActive: 1 }),
    ]
    await world.runFor(1000)
    churn()
    for (const n of nemeses) n.start()
    await world.runFor(options.faultyMs ?? 10_000)

    viewsChurn = false
    for (const n of nemeses) n.stop()
    world.network.heal()
    world.network.configure({ dropProbability: 0, duplicateProbability: 0, reorderProbability: 0 })
    for (const name of world.nodeNames) if (world.node(name).state === 'down') world.restart(name)
    for (const view of views.values()) view.set(APPS)
    world.note('healed')
    await world.runFor(3 * ttlMs + 2000)
    running = false

    const violations: string[] = []
    // (d) every entity answers from every node.
    for (const name of APPS) {
      const app = world.node<{ sharding: Sharding; Account: ReturnType<typeof accountDef> }>(name).app
      for (const id of ids) {
        const answer = await world
          .waitFor(app.sharding.entity<AccountProtocol>(app.Account, id).ask('incr', undefined, { timeoutMs: 4000 }), 6000)
          .catch((e: unknown) => ({ ok: false as const, error: String(e) }))
        if (!answer.ok) violations.push(`after healing, ${id} did not answer ${name}: ${JSON.stringify(answer)}`)
      }
    }
    // (a) handlers of one entity, in global time order, never go back to an older activation.
    if (guarded) {
      const last = new Map<string, HandlerRun>()
      for (const r of runs) {
        const before = last.get(r.id)
        if (before !== undefined && r.token < before.token) {
          violations.push(`${r.id}: a handler of token ${r.token} on ${r.node} ran at ${r.atMs} after one of token ${before.token} on ${before.node} at ${before.atMs}`)
        }
        if (before === undefined || r.token >= before.token) last.set(r.id, r)
      }
    }
    // (b) the store's accepted writes per entity: 1, 2, 3, ...
    let writes = 0
    for (const id of ids) {
      const list = store.writes.get(id) ?? []
      writes += list.length
      list.forEach((w, i) => {
        if (w.value !== i + 1) violations.push(`${id}: accepted write #${i + 1} set ${w.value} (token ${w.token} from ${w.node}): ${w.value <= i ? 'an increment was lost' : 'a gap'}`)
      })
    }
    // (c) the lease group's replicated history, and the store's fence.
    if (guarded) {
      for (const v of checkLeaseSafety({ log: applied.log(), replicas: applied.replicaLogs(), fence: store.fence }, { tokenIsIndex: true })) {
        violations.push(`${v.rule}: ${v.message}`)
      }
    }
    if (writes < 20) violations.push(`only ${writes} writes: the run tested little`)
    const stats: Record<string, number> = { ...counts, writes, handlerRuns: runs.length }
    for (const name of APPS) {
      const s = world.node(name).up ? world.node<{ sharding: Sharding }>(name).app.sharding.stats() : null
      if (s !== null) {
        stats.activations = (stats.activations ?? 0) + s.activations
        stats.permitsLost = (stats.permitsLost ?? 0) + s.permitsLost
      }
    }
    const result: ScenarioResult = { seed, traceHash: world.traceHash, events: world.traceEvents, virtualMs: world.now, stats }
    world.dispose()
    if (violations.length > 0) throw new Error(`entity activation sim (guard ${guarded ? 'on' : 'off'}): ${violations.length} violation(s):\n  ${violations.slice(0, 12).join('\n  ')}`)
    return result
  })
}
