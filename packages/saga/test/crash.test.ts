import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ManualClock } from '@troupe/runtime'
import { checkSagaAtomicity, Prng, simSeeds, withSeed } from '@troupe/testkit'
import { MemorySagaLog } from '../src/index.js'
import { faultyShop } from './faulty-shop.js'
import type { ShopFaults } from './faulty-shop.js'
import { ManualNode } from './harness.js'
import { KillingLog } from './killing-log.js'
import type { Kill } from './killing-log.js'
import { observeSagas, placeOrder, ShopState } from './shop.js'
import type { Order } from './shop.js'

/** Where a process dies: at its k-th append, before or after the record is durable. */
type CrashPoint = Kill & ({ mode: 'before' | 'after' } | null)

/** More seeds for a deeper run: SAGA_SEEDS=50 pnpm test saga. */
const scale = Number(process.env.SAGA_SEEDS ?? 1)

const faults: ShopFaults = { transient: 0.1, lostReply: 0.05, slow: 0.05, duplicate: 0.1, latencyMs: { min: 1, max: 20 }, slowMs: 400 }

/**
 * Four orders on a shop with flaky participants, one coordinator process per
 * entry of `crashes` (each dies at its crash point; the next one recovers
 * from the same log, and clients re-send every start that was not
 * acknowledged). Returns what the first process appended and the checker's verdict.
 */
async function scenario(seed: number, crashes: CrashPoint[]) {
  const prng = new Prng(seed)
  const clock = new ManualClock(1_000)
  const state = new ShopState({ alice: 100, bob: 30, carol: 1_000 }, { apple: 5, pear: 100 })
  const api = faultyShop(state, clock, prng.fork('shop'), faults)
  const def = placeOrder(api)
  const inner = new MemorySagaLog()
  const orders = new Map<string, Order>()
  for (let i = 0; i < 4; i++) {
    orders.set(`o${i}`, { customer: prng.pick(['alice', 'bob', 'carol']), sku: prng.pick(['apple', 'pear']), qty: prng.range(1, 3), price: prng.range(5, 25) })
  }
  const acknowledged = new Set<string>()
  let firstAppends = 0
  let node: ManualNode | null = null
  for (let incarnation = 0; incarnation < crashes.length + 1; incarnation++) {
    let crashed = false
    const crashLog = new KillingLog(inner, crashes[incarnation] ?? null, () => (crashed = true))
    node = new ManualNode(crashLog, { clock, name: 'n1', seed: seed * 100 + incarnation })
    node.coordinator.register(def)
    if (incarnation > 0) void node.coordinator.recover().catch(() => undefined)
    for (const [id, order] of orders) {
      if (!acknowledged.has(id)) void node.coordinator.start(def, order, { id }).then(() => acknowledged.add(id), () => undefined)
    }
    await node.runUntil(async () => crashed || (acknowledged.size === orders.size && (await inner.unfinished()).length === 0))
    if (incarnation === 0) firstAppends = crashLog.appends
    if (!crashed) break
    // A dead process: whatever can stop stops; a handler stuck on the dead log never returns.
    void node.system.terminate()
  }
  const reported = new Map<string, string>()
  for (const id of orders.keys()) {
    const result = await node!.settle(node!.coordinator.wait(id)).catch(() => null)
    if (result) reported.set(id, result.status)
  }
  const { sagas, statuses } = await observeSagas(inner, orders.keys(), acknowledged, reported)
  const completed = [...statuses.values()].filter((s) => s.state === 'completed').map((s) => s.id)
  const violations = checkSagaAtomicity({ sagas, effects: state.effects, conserved: state.conserved(orders, completed), quiescent: true })
  await node!.stop()
  const outcomes = [...statuses.values()].map((s) => s.state)
  return { firstAppends, violations, outcomes, acknowledged: acknowledged.size }
}

function assertClean(result: Awaited<ReturnType<typeof scenario>>, what: string): void {
  assert.equal(result.violations, [], `${what}: ${JSON.stringify(result.violations, null, 1)}`)
  assert.is(result.acknowledged, 4, `${what}: every start acknowledged in the end`)
}

test('no crash: random outcomes keep guarantees 1-3 and conservation', async () => {
  const seen = new Set<string>()
  for (const seed of simSeeds(20 * scale)) {
    await withSeed(seed, async () => {
      const r = await scenario(seed, [])
      assertClean(r, `seed ${seed}`)
      for (const o of r.outcomes) seen.add(o)
    }, { replay: 'pnpm test saga' })
  }
  if (!process.env.SIM_SEED) assert.ok(seen.has('completed') && seen.has('compensated'), `outcomes seen: ${[...seen]}`)
})

test('the coordinator crashes at every log append, before and after it is durable; the next one recovers', async () => {
  let runs = 0
  for (const seed of simSeeds(3 * scale, 100)) {
    await withSeed(seed, async () => {
      const { firstAppends } = await scenario(seed, [])
      for (let at = 1; at <= firstAppends; at++) {
        for (const mode of ['before', 'after'] as const) {
          const r = await scenario(seed, [{ at, mode }])
          runs++
          assertClean(r, `seed ${seed}, crash ${mode} append ${at} of ${firstAppends}`)
        }
      }
    }, { replay: 'pnpm test saga' })
  }
  console.log(`  crash points checked: ${runs}`)
})

test('crashes during recovery too: two and three crashes in a row', async () => {
  for (const seed of simSeeds(12 * scale, 200)) {
    await withSeed(seed, async () => {
      const prng = new Prng(seed)
      const { firstAppends } = await scenario(seed, [])
      const point = (max: number): CrashPoint => ({ at: prng.range(1, Math.max(1, max)), mode: prng.chance(0.5) ? 'before' : 'after' })
      const r = await scenario(seed, [point(firstAppends), point(8), point(4)])
      assertClean(r, `seed ${seed}`)
    }, { replay: 'pnpm test saga' })
  }
})

test.run()
