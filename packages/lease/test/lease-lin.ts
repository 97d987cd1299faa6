// Linearizability of lease operations: clients tryAcquire, release and read
// two names through a simulated group under partitions, leader kills and
// flaky links; the history is checked against a sequential lock with the
// testkit checker. TTLs are long so that nothing expires: the sequential
// object is then a plain lock whose tokens only grow.
import { checkLinearizability, HistoryRecorder } from '@troupe/testkit'
import type { Model, Operation } from '@troupe/testkit'
import { Nemesis, SimWorld } from '@troupe/testkit'
import { traced } from '@troupe/testkit'
import type { ScenarioResult } from '@troupe/testkit'
import type { LeaseResult } from '../src/core/commands.js'
import type { Lease } from '../src/client/lease.js'
import { AppliedLeases, clientBoot, memberBoot, sleep } from './sim-harness.js'
import type { ClientApp } from './sim-harness.js'

export type LockInput = { op: 'acquire'; name: string; holder: string } | { op: 'release'; name: string; holder: string } | { op: 'get'; name: string }
export type LockOutput = { granted: boolean; token: number } | { released: boolean } | { holder: string | null; token: number }
/** token -1: granted by an operation whose answer was lost (known once a read shows it). */
export type LockState = { holder: string | null; token: number; lastToken: number }

/** A sequential exclusive lock with growing tokens; tryAcquire never queues. */
export function lockModel(): Model<LockState, LockInput, LockOutput> {
  return {
    init: () => ({ holder: null, token: 0, lastToken: 0 }),
    step(s, input, output, unknown) {
      switch (input.op) {
        case 'acquire': {
          if (unknown) return { ok: true, state: s.holder === null ? { holder: input.holder, token: -1, lastToken: s.lastToken } : s }
          const o = output as { granted: boolean; token: number }
          if (!o.granted) return { ok: s.holder !== null, state: s }
          return { ok: s.holder === null && o.token > s.lastToken, state: { holder: input.holder, token: o.token, lastToken: o.token } }
        }
        case 'release': {
          const mine = s.holder === input.holder
          const next = mine ? { holder: null, token: 0, lastToken: s.lastToken } : s
          if (unknown) return { ok: true, state: next }
          return { ok: (output as { released: boolean }).released === mine, state: next }
        }
        case 'get': {
          const o = output as { holder: string | null; token: number }
          if (unknown) return { ok: true, state: s }
          if (o.holder !== s.holder) return { ok: false, state: s }
          if (s.holder === null) return { ok: true, state: s }
          if (s.token === -1) return { ok: o.token > s.lastToken, state: { holder: s.holder, token: o.token, lastToken: o.token } }
          return { ok: o.token === s.token, state: s }
        }
      }
    },
    equal: (a, b) => a.holder === b.holder && a.token === b.token && a.lastToken === b.lastToken,
    hash: (s) => `${s.holder}|${s.token}|${s.lastToken}`,
    partition: (ops) => {
      const by = new Map<string, Operation<LockInput, LockOutput>[]>()
      for (const op of ops) (by.get(op.input.name) ?? by.set(op.input.name, []).get(op.input.name)!).push(op)
      return [...by.values()]
    },
    describePartition: (ops) => `lease ${ops[0]?.input.name}`,
    describeOperation: (input, output, unknown) => `${input.op}(${'holder' in input ? input.holder : ''}) -> ${unknown ? '?' : JSON.stringify(output)}`,
    describeState: (s) => JSON.stringify(s),
  }
}

export async function runLeaseLinearizability(seed: number, options: { faultyMs?: number } = {}): Promise<ScenarioResult> {
  const members = ['n1', 'n2', 'n3']
  const world = new SimWorld({ seed, network: { latencyMs: { min: 1, max: 8 }, dropProbability: 0.01, duplicateProbability: 0.02, reorderProbability: 0.05, reorderMaxMs: 20 } })
  const applied = new AppliedLeases(() => world.now)
  const rec = new HistoryRecorder<LockInput, LockOutput>(() => world.now)
  const names = ['x', 'y']
  let running = true
  let pending = 0

  const client = async (app: ClientApp, index: number) => {
    const leases = app.leases[index]!
    const holder = leases.clientId
    const rng = world.random(`lin:${holder}`)
    while (running) {
      const name = rng.pick(names)
      if (rng.chance(0.3)) {
        const op = rec.invoke(holder, { op: 'get', name })
        pending++
        await leases.get(name).then(
          (info) => rec.ok(op, { holder: info.holders[0]?.clientId ?? null, token: info.holders[0]?.token ?? 0 }),
          (err) => rec.fail(op, err),
        )
        pending--
        continue
      }
      const op = rec.invoke(holder, { op: 'acquire', name, holder })
      pending++
      const lease: Lease | null = await leases.tryAcquire(name, { ttlMs: 60_000 })
      rec.ok(op, { granted: lease !== null, token: lease?.token ?? 0 })
      pending--
      if (lease === null) {
        await sleep(app.system, rng.range(5, 40))
        continue
      }
      await sleep(app.system, rng.range(0, 60))
      const rop = rec.invoke(holder, { op: 'release', name, holder })
      pending++
      // Released straight through the group, to observe its answer; a retry after a lost
      // answer may find nothing to release, so an answer after a retry is not checked.
      let retried = false
      for (;;) {
        try {
          const r = (await leases.group.propose({ op: 'release', name, clientId: holder, requestId: lease.requestId }, { timeoutMs: 1000 })) as LeaseResult
          if (retried) rec.info(rop)
          else rec.ok(rop, { released: r.status === 'released' })
          break
        } catch {
          retried = true
        }
      }
      pending--
      await lease.release() // stops its keep-alives (the table has nothing left to release)
      await sleep(app.system, rng.range(0, 30))
    }
  }

  return traced(world, async () => {
    for (const m of members) world.addNode(m, memberBoot(members, applied), { clockSkewMs: m === 'n2' ? 2500 : 0 })
    for (const c of ['c1', 'c2']) {
      world.addNode(c, clientBoot(members, 2, { requestTimeoutMs: 1000 }, (app) => {
        for (let i = 0; i < app.leases.length; i++) void client(app, i)
      }))
    }
    await world.waitUntilUp(5000)
    const nemesis = new Nemesis(world, { targets: members, intervalMs: 600, durationMs: { min: 200, max: 1500 }, partitions: true, crashes: true, flakyLinks: true, maxActive: 2, maxDown: 1 })
    await world.runFor(1000)
    nemesis.start()
    await world.runFor(options.faultyMs ?? 8000)
    nemesis.stop()
    world.network.heal()
    for (const m of members) if (world.node(m).state === 'down') world.restart(m)
    await world.runFor(2000)
    running = false
    await world.runUntil(() => pending === 0, 20_000)
    const ops = rec.operations()
    const check = checkLinearizability(lockModel(), ops, { maxSteps: 5_000_000 })
    const result: ScenarioResult = {
      seed, traceHash: world.traceHash, events: world.traceEvents, virtualMs: world.now,
      stats: { operations: ops.length, info: ops.filter((o) => o.outcome === 'info').length, steps: check.steps, ...Object.fromEntries(Object.entries(nemesis.counts).map(([k, v]) => [`nemesis.${k}`, v])) },
    }
    world.dispose()
    if (check.result !== 'ok') throw new Error(`lease operations are not linearizable (${check.result}):\n${check.explanation}`)
    if (ops.length < 50) throw new Error(`only ${ops.length} operations`)
    return result
  })
}
