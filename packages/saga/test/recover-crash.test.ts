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

// The coordinator is killed inside recover() itself: a first process leaves
// sagas in every state (not started, going forward, compensating), a second
// one only recovers and dies at its k-th append, for every k it makes; a third
// recovers for good. Every saga must end completed or fully compensated, with
// no step's effect applied twice (the saga-atomicity checker).

const faults: ShopFaults = { transient: 0.1, lostReply: 0.05, slow: 0.05, duplicate: 0.1, latencyMs: { min: 1, max: 20 }, slowMs: 400 }
const ORDERS = 6

interface Process {
  kill: Kill
  /** Clients re-send every start not yet acknowledged. */
  starts: boolean
  recover: boolean
}

/** Runs one coordinator process after another on one log; returns each one's append count and the checker's verdict. */
async function scenario(seed: number, processes: Process[]) {
  const prng = new Prng(seed)
  const clock = new ManualClock(1_000)
  const state = new ShopState({ alice: 100, bob: 30, carol: 1_000 }, { apple: 5, pear: 100 })
  const def = placeOrder(faultyShop(state, clock, prng.fork('shop'), faults))
  const inner = new MemorySagaLog()
  const orders = new Map<string, Order>()
  for (let i = 0; i < ORDERS; i++) {
    orders.set(`o${i}`, { customer: prng.pick(['alice', 'bob', 'carol']), sku: prng.pick(['apple', 'pear']), qty: prng.range(1, 3), price: prng.range(5, 25) })
  }
  const acknowledged = new Set<string>()
  const appends: number[] = []
  const killed: boolean[] = []
  let node: ManualNode | null = null
  for (const [i, p] of processes.entries()) {
    let dead = false
    const log = new KillingLog(inner, p.kill, () => (dead = true))
    node = new ManualNode(log, { clock, name: 'n1', seed: seed * 100 + i })
    node.coordinator.register(def)
    let recovered = !p.recover
    if (p.recover) void node.coordinator.recover().then(() => (recovered = true), () => (dead = true))
    if (p.starts) {
      for (const [id, order] of orders) {
        if (!acknowledged.has(id)) void node.coordinator.start(def, order, { id }).then(() => acknowledged.add(id), () => undefined)
      }
    }
    const last = i === processes.length - 1
    await node.runUntil(async () => dead || (recovered && (!last || acknowledged.size === orders.size) && (await inner.unfinished()).length === 0))
    appends.push(log.appends)
    killed.push(dead)
    if (last) break
    // The process dies (or, not killed, is stopped): a handler stuck on the dead log never returns.
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
  const outcomes = [...statuses.entries()].map(([id, s]) => `${id}:${s.state}`)
  return { appends, killed, violations, outcomes, acknowledged: acknowledged.size }
}

const scale = Number(process.env.SAGA_SEEDS ?? 1)

test('the coordinator is killed at every append of recover(); the next recovery finishes every saga', async () => {
  let runs = 0
  let maxK = 0
  for (const seed of simSeeds(2 * scale, 300)) {
    await withSeed(seed, async () => {
      const { appends: [total] } = await scenario(seed, [{ kill: null, starts: true, recover: false }])
      // First processes that die early, midway and late, leaving sagas unstarted, going forward and compensating.
      for (const first of [Math.ceil(total! / 4), Math.ceil(total! / 2), Math.ceil((3 * total!) / 4)]) {
        const crashFirst: Process = { kill: { at: first, mode: 'after' }, starts: true, recover: false }
        const probe = await scenario(seed, [crashFirst, { kill: null, starts: false, recover: true }, { kill: null, starts: true, recover: true }])
        const k = probe.appends[1]!
        maxK = Math.max(maxK, k)
        for (let at = 1; at <= k; at++) {
          for (const mode of ['before', 'after', 'throw'] as const) {
            const r = await scenario(seed, [crashFirst, { kill: { at, mode }, starts: false, recover: true }, { kill: null, starts: true, recover: true }])
            runs++
            const what = `seed ${seed}, first process killed at append ${first} of ${total}, recovery killed ${mode} its append ${at} of ${k}`
            assert.ok(r.killed[1], `${what}: the recovery was killed`)
            assert.equal(r.violations, [], `${what}: ${JSON.stringify(r.violations, null, 1)}`)
            assert.is(r.acknowledged, ORDERS, `${what}: every start acknowledged in the end`)
            for (const o of r.outcomes) assert.ok(/:(completed|compensated)$/.test(o), `${what}: ${r.outcomes.join(' ')}`)
            assert.is(r.outcomes.length, ORDERS, `${what}: ${r.outcomes.join(' ')}`)
          }
        }
      }
    }, { replay: 'pnpm test saga' })
  }
  console.log(`  recovery kill points checked: ${runs} (up to ${maxK} appends per recovery)`)
  assert.ok(maxK > 0, 'the recoveries appended something')
})

test.run()
