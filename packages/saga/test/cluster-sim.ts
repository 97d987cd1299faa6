// Sagas and two-phase transfers on a three-node cluster with the Raft saga
// log, under partitions, crashes with restart, pauses and lossy, duplicating,
// reordering links. A fourth node, `shop`, hosts the participants (it is the
// outside world: it never crashes). Clients start orders on random nodes and
// re-send unacknowledged starts to other nodes (same id); a failure detector
// stand-in takes over the sagas of nodes that are down (and, now and then, of
// a node that is only suspected). At the end everything is healed and every
// saga must finish; the saga-atomicity checker then judges guarantees 1–4
// and conservation of money and stock.
import { ActorSystem, defineActor } from '@troupe/runtime'
import type { ActorRef } from '@troupe/runtime'
import { WriteAheadLog } from '@troupe/raft'
import { checkSagaAtomicity, Nemesis, SimWorld } from '@troupe/testkit'
import type { NodeEnv, ObservedTransaction, ScenarioResult } from '@troupe/testkit'
import { defineTxParticipant, RaftSagaLog, SagaCoordinator, SagaError, TwoPhaseCoordinator } from '../src/index.js'
import type { SagaStatus } from '../src/index.js'
import { observeSagas, placeOrder, ShopRefusal, ShopState } from './shop.js'
import type { Order, ShopApi } from './shop.js'

const members = ['n1', 'n2', 'n3']
const HOST = { tickMs: 50, electionTicks: 10, heartbeatTicks: 1 }

interface MemberApp {
  system: ActorSystem
  log: RaftSagaLog
  sagas: SagaCoordinator
  tpc: TwoPhaseCoordinator
  def: ReturnType<typeof placeOrder>
}

type ShopReply = { ok: true } | { refused: 'DECLINED' | 'OUT_OF_STOCK'; message: string } | { rejected: string }

/** The shop's participants as one actor; a few calls fail before applying (a busy participant). */
function shopDef(state: ShopState, busy: () => boolean) {
  const wrap = (op: () => void): ShopReply => {
    if (busy()) throw new Error('participant busy')
    try {
      op()
      return { ok: true }
    } catch (err) {
      if (err instanceof ShopRefusal) return { refused: err.code, message: err.message }
      if (err instanceof SagaError && err.code === 'STEP_REJECTED') return { rejected: err.message }
      throw err
    }
  }
  return defineActor({
    name: 'shop',
    initial: () => null,
    // A failed call is an error reply, not a reason to restart (and, ten failures later, stop) the participant.
    supervision: { onFailure: 'resume' },
    handlers: {
      reserve: (_s, p: { key: string; sku: string; qty: number }) => wrap(() => state.reserve(p.key, p.sku, p.qty)),
      release: (_s, p: { key: string }) => wrap(() => state.release(p.key)),
      charge: (_s, p: { key: string; customer: string; amount: number }) => wrap(() => state.charge(p.key, p.customer, p.amount)),
      refund: (_s, p: { key: string }) => wrap(() => state.refund(p.key)),
      confirm: (_s, p: { key: string }) => wrap(() => state.confirm(p.key)),
      ship: (_s, p: { key: string }) => wrap(() => state.ship(p.key)),
    },
  })
}

type ShopProtocol = { [K in keyof ShopApi]: (p: any) => ShopReply }

/** The shop as seen from a cluster node: asks over the simulated network. */
function remoteShop(system: ActorSystem, askTimeoutMs: number): ShopApi {
  const shop = system.remoteRef<ShopProtocol>('shop', '/user/shop')
  const call = async (type: keyof ShopApi, payload: object) => {
    const reply = await shop.ask(type, payload, { timeoutMs: askTimeoutMs })
    if ('refused' in reply) throw new ShopRefusal(reply.refused, reply.message)
    if ('rejected' in reply) throw new SagaError('STEP_REJECTED', reply.rejected)
  }
  return {
    reserve: (key, sku, qty) => call('reserve', { key, sku, qty }),
    release: (key) => call('release', { key }),
    charge: (key, customer, amount) => call('charge', { key, customer, amount }),
    refund: (key) => call('refund', { key }),
    confirm: (key) => call('confirm', { key }),
    ship: (key) => call('ship', { key }),
  }
}

interface Account {
  balance: number
  held: number
  /** Per transaction: its last state here. */
  txs: Map<string, 'prepared' | 'committed' | 'aborted'>
}

/** A bank account as a two-phase participant: a prepared debit holds the money. */
function accountDef(balance: number) {
  return defineTxParticipant<Account, { amount: number }>({
    name: 'account',
    initial: () => ({ balance, held: 0, txs: new Map() }),
    prepare(s, op, txId) {
      if (s.balance - s.held + op.amount < 0) return false
      s.held += Math.max(0, -op.amount)
      s.txs.set(txId, 'prepared')
      return true
    },
    commit(s, op, txId) {
      s.held -= Math.max(0, -op.amount)
      s.balance += op.amount
      s.txs.set(txId, 'committed')
    },
    abort(s, op, txId) {
      s.held -= Math.max(0, -op.amount)
      s.txs.set(txId, 'aborted')
    },
    inquireAfterMs: 500,
    handlers: { get: (s) => ({ balance: s.balance, held: s.held, txs: [...s.txs] }) },
  })
}

function memberBoot(reports: string[]) {
  return async (env: NodeEnv): Promise<MemberApp> => {
    const system = new ActorSystem({ ...env.system, askTimeoutMs: 2000 })
    await system.start()
    const wal = await WriteAheadLog.open(env.disk, { dir: 'raft', segmentBytes: 64 * 1024, maxSegments: 3 })
    const log = await RaftSagaLog.open(system, { id: 'sagas', members, storage: wal, snapshotEveryEntries: 300, requestTimeoutMs: 2000, attemptTimeoutMs: 500, host: HOST })
    const def = placeOrder(remoteShop(system, 350), { timeoutMs: 400 })
    const sagas = new SagaCoordinator({ system, log, definitions: [def], logRetry: { backoffMs: 50, maxBackoffMs: 1000 }, report: (line) => reports.push(`${env.name}: ${line}`) })
    const tpc = new TwoPhaseCoordinator({ system, log, peers: members, prepareTimeoutMs: 1000, deliveryTimeoutMs: 500 })
    tpc.start()
    return { system, log, sagas, tpc, def }
  }
}

export interface ClusterSimOptions {
  /** Virtual ms of work under faults (default 8,000). */
  faultyMs?: number
  /** Most virtual ms to let everything finish after healing (default 60,000). */
  settleMs?: number
}

export async function runClusterSim(seed: number, options: ClusterSimOptions = {}): Promise<ScenarioResult> {
  const world = new SimWorld({
    seed,
    network: { latencyMs: { min: 1, max: 10 }, dropProbability: 0.01, duplicateProbability: 0.02, reorderProbability: 0.05, reorderMaxMs: 30 },
    traceLines: process.env.SAGA_SIM_TRACE ? 1_000_000 : 200,
  })
  const rng = world.random('script')
  const shopRng = world.random('shop')
  const reports: string[] = []
  const state = new ShopState({ alice: 1_000, bob: 300, carol: 5_000, dave: 20 }, { apple: 40, pear: 200 })
  for (const name of members) world.addNode(name, memberBoot(reports), { disk: { tornWrites: true, latencyMs: { min: 0.05, max: 1 } } })
  let accounts: ActorRef<any>[] = []
  world.addNode('shop', async (env) => {
    const system = new ActorSystem({ ...env.system, askTimeoutMs: 2000 })
    await system.start()
    system.spawn(shopDef(state, () => shopRng.chance(0.05)), { name: 'shop' })
    accounts = [system.spawn(accountDef(500), { name: 'bank-a' }), system.spawn(accountDef(500), { name: 'bank-b' })]
    return { system }
  })
  await world.waitUntilUp(10_000)

  const app = (name: string) => world.node<MemberApp>(name).app
  const live = () => members.filter((m) => world.node(m).up && !world.node(m).paused)
  const orders = new Map<string, Order>()
  const acknowledged = new Set<string>()
  const txs = new Map<string, { outcome: 'committed' | 'aborted' | null; amount: number }>()
  const stats = { orders: 0, resent: 0, takeovers: 0, suspicions: 0, transfers: 0, stuckRetried: 0 }
  let issuing = true
  let finished = false

  const start = (id: string) => {
    const nodes = live()
    if (nodes.length === 0) return
    const a = app(rng.pick(nodes))
    a.sagas.start(a.def, orders.get(id)!, { id }).then(
      () => acknowledged.add(id),
      () => undefined,
    )
  }
  const newOrder = () => {
    if (!issuing) return
    const id = `o${orders.size}`
    orders.set(id, { customer: rng.pick(['alice', 'bob', 'carol', 'dave']), sku: rng.pick(['apple', 'pear']), qty: rng.range(1, 4), price: rng.range(5, 40) })
    stats.orders++
    start(id)
    world.after(rng.range(50, 250), newOrder, 'new-order')
  }
  const transfer = () => {
    if (!issuing) return
    const nodes = live()
    const txId = `t${txs.size}`
    const amount = rng.range(1, 120)
    const [from, to] = rng.chance(0.5) ? [accounts[0], accounts[1]] : [accounts[1], accounts[0]]
    txs.set(txId, { outcome: null, amount })
    stats.transfers++
    if (nodes.length > 0) {
      app(rng.pick(nodes))
        .tpc.transact(txId, [{ participant: from, op: { amount: -amount } }, { participant: to, op: { amount } }])
        .then((r) => (txs.get(txId)!.outcome = r.outcome), () => undefined)
    }
    world.after(rng.range(200, 600), transfer, 'transfer')
  }
  // Clients re-send starts nobody acknowledged (their node may have died), to another node.
  const resend = () => {
    for (const id of orders.keys()) {
      if (!acknowledged.has(id)) {
        stats.resent++
        start(id)
      }
    }
    if (!finished) world.after(1000, resend, 'resend')
  }
  // The failure detector's stand-in: take over from nodes that are down, sometimes from a merely suspected one.
  const detect = () => {
    const up = live()
    if (up.length > 0) {
      for (const m of members) {
        if (world.node(m).state !== 'down') continue
        const taker = app(rng.pick(up))
        stats.takeovers++
        taker.sagas.recover({ owners: [m] }).catch(() => undefined)
        taker.tpc.recover({ owners: [m] }).catch(() => undefined)
      }
      if (up.length > 1 && rng.chance(0.15)) {
        const [suspect, taker] = rng.shuffle([...up]).slice(0, 2)
        stats.suspicions++
        app(taker).sagas.recover({ owners: [suspect] }).catch(() => undefined)
      }
      for (const m of up) {
        app(m).sagas.recover().catch(() => undefined)
        app(m).tpc.recover().catch(() => undefined)
      }
    }
    if (!finished) world.after(700, detect, 'detect')
  }
  if (process.env.SAGA_SIM_TRACE) {
    let last = 0
    const sample = () => {
      console.log(`t=${Math.round(world.now)} events +${world.traceEvents - last} wall ${Math.round(performance.now())}`)
      last = world.traceEvents
      if (!finished) world.after(500, sample, 'sample')
    }
    world.after(500, sample, 'sample')
  }
  newOrder()
  transfer()
  world.after(1000, resend, 'resend')
  world.after(700, detect, 'detect')

  const crasher = new Nemesis(world, { crashes: true, pauses: true, targets: members, maxDown: 1, intervalMs: 900, durationMs: { min: 300, max: 2500 } }).start()
  const chaos = new Nemesis(world, { partitions: true, flakyLinks: true, pauses: true, intervalMs: 700, maxActive: 2, maxDown: 1 }).start()
  await world.runFor(options.faultyMs ?? 8_000)
  issuing = false
  crasher.stop()
  chaos.stop()
  world.network.heal()
  world.network.configure({ dropProbability: 0, duplicateProbability: 0, reorderProbability: 0 })
  for (const name of world.nodeNames) if (world.node(name).state === 'down') world.restart(name)
  world.note('healed')

  // Let everything finish; an operator retries stuck sagas once the shop is reachable again.
  let done = false
  const poll = async () => {
    const up = live()
    if (up.length === 0) return
    const a = app(up[0])
    try {
      const unfinished = await a.log.unfinished()
      for (const id of orders.keys()) {
        const s = await a.sagas.status(id)
        if (s?.state === 'stuck') {
          stats.stuckRetried++
          await a.sagas.retry(id).catch(() => undefined)
        }
      }
      done = acknowledged.size === orders.size && unfinished.length === 0 && [...txs.values()].every((t) => t.outcome !== null || true)
    } catch {
      // the log is unavailable for a moment; ask again
    }
  }
  const settleMs = options.settleMs ?? 60_000
  const pollLoop = () => {
    if (done) return
    void poll().finally(() => world.after(500, pollLoop, 'poll'))
  }
  pollLoop()
  const ok = await world.runUntil(() => done, settleMs)
  if (!ok) {
    const a = app(live()[0])
    const unfinished = await world.waitFor(a.log.unfinished(), 10_000).catch(() => [])
    const statuses = await Promise.all(unfinished.slice(0, 5).map((id) => world.waitFor(a.sagas.status(id), 5_000).catch(() => null)))
    const histories = await Promise.all(unfinished.slice(0, 5).map((id) => world.waitFor(a.log.read(id), 5_000).catch(() => null)))
    reports.push(...histories.map((h) => JSON.stringify(h?.map((r) => [r.type, r.by]))))
    throw new Error(`not finished after ${settleMs} ms: ${orders.size - acknowledged.size} starts unacknowledged; unfinished ${unfinished.length}: ${JSON.stringify(statuses.map(brief))}\nreports:\n${reports.slice(-10).join('\n')}`)
  }
  // Participants that voted yes learn the outcome by asking; give them time.
  await world.runFor(3_000)
  finished = true

  const a = app(live()[0])
  const reported = new Map<string, string>()
  for (const id of orders.keys()) {
    const r = await world.waitFor(a.sagas.wait(id), 10_000)
    reported.set(id, r.status)
  }
  const { sagas, statuses } = await world.waitFor(observeSagas(a.log, orders.keys(), acknowledged, reported), 30_000)
  const completed = [...statuses.values()].filter((s) => s.state === 'completed').map((s) => s.id)
  const books = await world.waitFor(Promise.all(accounts.map((r) => r.ask('get') as Promise<{ balance: number; held: number; txs: [string, string][] }>)), 5_000)
  const transactions: ObservedTransaction[] = [...txs].map(([txId, t]) => ({
    txId,
    outcome: t.outcome,
    participants: books.map((b, i) => ({ name: `bank-${i}`, state: (new Map(b.txs).get(txId) ?? 'none') as ObservedTransaction['participants'][number]['state'] })),
  }))
  const violations = checkSagaAtomicity({
    sagas,
    effects: state.effects,
    transactions,
    conserved: [
      ...state.conserved(orders, completed),
      { name: 'money in the two banks', expected: 1000, actual: books[0].balance + books[1].balance },
      { name: 'money held by prepared transfers', expected: 0, actual: books[0].held + books[1].held },
    ],
    quiescent: true,
  })
  if (violations.length > 0) throw new Error(`saga-atomicity violations:\n${violations.map((v) => `  ${v.guarantee} ${v.id}: ${v.message}`).join('\n')}`)
  const outcomes = [...statuses.values()].reduce<Record<string, number>>((acc, s) => ((acc[s.state] = (acc[s.state] ?? 0) + 1), acc), {})
  const committed = transactions.filter((t) => t.participants.every((p) => p.state === 'committed')).length
  const result: ScenarioResult = {
    seed,
    traceHash: world.traceHash,
    events: world.traceEvents,
    virtualMs: world.now,
    stats: {
      ...stats,
      completed: outcomes.completed ?? 0,
      compensated: outcomes.compensated ?? 0,
      committedTransfers: committed,
      crashes: crasher.counts.crash,
      partitions: chaos.counts.partition,
      effects: state.effects.length,
    },
  }
  if (process.env.SAGA_SIM_TRACE) console.log(world.recentTrace().join('\n'))
  world.dispose()
  return result
}

function brief(s: SagaStatus | null) {
  return s && { id: s.id, state: s.state, owner: s.owner, steps: Object.fromEntries(Object.entries(s.steps).map(([k, v]) => [k, `${v.status}/${v.compensation ?? '-'}`])) }
}
