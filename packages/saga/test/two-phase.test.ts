import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { defineActor } from '@troupe/runtime'
import type { ActorRef } from '@troupe/runtime'
import { checkSagaAtomicity } from '@troupe/testkit'
import type { ObservedTransaction } from '@troupe/testkit'
import { defineTxParticipant, MemorySagaLog, TwoPhaseCoordinator } from '../src/index.js'
import type { PrepareRequest, SagaLog, TxParticipantProtocol } from '../src/index.js'
import { ManualNode, transitions } from './harness.js'

/** An account that can be debited or credited; a prepared debit holds the money. */
interface Account {
  balance: number
  held: number
  log: string[]
}
type Move = { amount: number }

function account(name: string, balance: number, inquireAfterMs = 200) {
  return defineTxParticipant<Account, Move>({
    name,
    initial: () => ({ balance, held: 0, log: [] }),
    prepare(s, op, txId) {
      if (s.balance - s.held + op.amount < 0) return false
      s.held += Math.max(0, -op.amount)
      s.log.push(`prepare ${txId}`)
      return true
    },
    commit(s, op, txId) {
      s.held -= Math.max(0, -op.amount)
      s.balance += op.amount
      s.log.push(`commit ${txId}`)
    },
    abort(s, op, txId) {
      s.held -= Math.max(0, -op.amount)
      s.log.push(`abort ${txId}`)
    },
    inquireAfterMs,
    handlers: { get: (s) => ({ balance: s.balance, held: s.held, log: s.log }) },
  })
}

/** Forwards prepare after `delayMs` (a slow participant), everything else at once. */
function slow(target: ActorRef<TxParticipantProtocol<Move>>, delayMs: number) {
  return defineActor({
    name: 'slow',
    initial: () => null,
    handlers: {
      prepare(_s, req: PrepareRequest<Move>, ctx) {
        const reply = ctx.deferReply()
        ctx.system.clock.setTimer(delayMs, () => target.ask('prepare', req).then((v) => reply.resolve(v), (e) => reply.reject(e)))
        return undefined
      },
      commit: (_s, req: { txId: string }) => target.ask('commit', req),
      abort: (_s, req: { txId: string }) => target.ask('abort', req),
    },
  })
}

type State = { balance: number; held: number; log: string[] }
const get = (ref: ActorRef<any>) => ref.ask('get') as Promise<State>

function txState(log: string[], txId: string): ObservedTransaction['participants'][number]['state'] {
  const last = [...log].reverse().find((l) => l.endsWith(` ${txId}`))
  if (!last) return 'none'
  return last.startsWith('commit') ? 'committed' : last.startsWith('abort') ? 'aborted' : 'prepared'
}

test('all vote yes: the decision is recorded, every participant commits, the transaction ends', async () => {
  const node = new ManualNode()
  const log = new MemorySagaLog()
  const tpc = new TwoPhaseCoordinator({ system: node.system, log })
  tpc.start()
  const a = node.system.spawn(account('a', 100), { name: 'a' })
  const b = node.system.spawn(account('b', 0), { name: 'b' })
  const result = await node.settle(tpc.transact('t1', [{ participant: a, op: { amount: -30 } }, { participant: b, op: { amount: 30 } }]))
  assert.equal(result, { outcome: 'committed', txId: 't1' })
  await node.advance(100)
  assert.equal(await node.settle(get(a)), { balance: 70, held: 0, log: ['prepare t1', 'commit t1'] })
  assert.is((await node.settle(get(b))).balance, 30)
  assert.equal(transitions(await log.read('t1')), ['TxDecided', 'TxEnded'])
  assert.is(await node.settle(tpc.outcome('t1')), 'commit')
  // Idempotent on the id.
  assert.equal(await node.settle(tpc.transact('t1', [{ participant: a, op: { amount: -30 } }])), { outcome: 'committed', txId: 't1' })
  assert.is((await node.settle(get(a))).balance, 70)
  await node.stop()
})

test('a no vote aborts everyone; presumed abort writes nothing', async () => {
  const node = new ManualNode()
  const log = new MemorySagaLog()
  const tpc = new TwoPhaseCoordinator({ system: node.system, log })
  tpc.start()
  const a = node.system.spawn(account('a', 10), { name: 'a' })
  const b = node.system.spawn(account('b', 0), { name: 'b' })
  const result = await node.settle(tpc.transact('t2', [{ participant: b, op: { amount: 50 } }, { participant: a, op: { amount: -50 } }]))
  assert.is(result.outcome, 'aborted')
  assert.ok(result.outcome === 'aborted' && result.reason === 'voted-no')
  await node.advance(100)
  assert.equal(await node.settle(get(b)), { balance: 0, held: 0, log: ['prepare t2', 'abort t2'] })
  assert.equal(await node.settle(get(a)), { balance: 10, held: 0, log: [] })
  assert.is(await log.read('t2'), null)
  await node.stop()
})

test('a participant that does not answer in time aborts the transaction', async () => {
  const node = new ManualNode()
  const tpc = new TwoPhaseCoordinator({ system: node.system, log: new MemorySagaLog(), prepareTimeoutMs: 100 })
  tpc.start()
  const a = node.system.spawn(account('a', 100), { name: 'a' })
  const b = node.system.spawn(account('b', 0), { name: 'b' })
  const slowB = node.system.spawn(slow(b, 1000), { name: 'slow-b' })
  const result = await node.settle(tpc.transact('t3', [{ participant: a, op: { amount: -5 } }, { participant: slowB, op: { amount: 5 } }]))
  assert.ok(result.outcome === 'aborted' && result.reason === 'no-vote' && result.error?.code === 'ASK_TIMEOUT', JSON.stringify(result))
  await node.advance(3000)
  // b prepared late (after the abort overtook it: it votes no) or was aborted: nothing is held anywhere.
  for (const ref of [a, b]) {
    const s = await node.settle(get(ref))
    assert.is(s.held, 0)
    assert.ok(['none', 'aborted'].includes(txState(s.log, 't3')), s.log.join())
  }
  await node.stop()
})

test('coordinator gone after prepare: participants ask, abort is recorded, a late commit attempt loses', async () => {
  const node = new ManualNode()
  const log = new MemorySagaLog()
  const tpc = new TwoPhaseCoordinator({ system: node.system, log, prepareTimeoutMs: 5000 })
  tpc.start()
  const a = node.system.spawn(account('a', 100, 50), { name: 'a' })
  const b = node.system.spawn(account('b', 0, 50), { name: 'b' })
  // b votes yes only after a has asked for the outcome (presumed abort gets recorded first).
  const slowB = node.system.spawn(slow(b, 500), { name: 'slow-b' })
  const result = await node.settle(tpc.transact('t4', [{ participant: a, op: { amount: -5 } }, { participant: slowB, op: { amount: 5 } }]))
  assert.ok(result.outcome === 'aborted' && result.reason === 'decided-abort', JSON.stringify(result))
  await node.advance(2000)
  const tx: ObservedTransaction = {
    txId: 't4',
    outcome: 'aborted',
    participants: [
      { name: 'a', state: txState((await node.settle(get(a))).log, 't4') },
      { name: 'b', state: txState((await node.settle(get(b))).log, 't4') },
    ],
  }
  assert.equal(checkSagaAtomicity({ sagas: [], effects: [], transactions: [tx], quiescent: true }), [])
  assert.equal(tx.participants.map((p) => p.state), ['aborted', 'aborted'])
  assert.equal(transitions(await log.read('t4')), ['TxDecided', 'TxEnded'])
  await node.stop()
})

test('coordinator crashes after the commit decision: prepared participants ask and commit', async () => {
  const node = new ManualNode()
  const log = new MemorySagaLog()
  // The process dies the moment its decision is durable, before any commit is delivered.
  let first: TwoPhaseCoordinator | null = null
  const dying: SagaLog = {
    append: async (req) => {
      await log.append(req)
      void first!.close()
    },
    read: (id) => log.read(id),
    unfinished: () => log.unfinished(),
    close: async () => {},
  }
  first = new TwoPhaseCoordinator({ system: node.system, log: dying })
  const a = node.system.spawn(account('a', 100, 50), { name: 'a' })
  const b = node.system.spawn(account('b', 0, 50), { name: 'b' })
  const result = await node.settle(first.transact('t5', [{ participant: a, op: { amount: -20 } }, { participant: b, op: { amount: 20 } }]))
  assert.is(result.outcome, 'committed')
  assert.is((await node.settle(get(a))).held, 20, 'a is still prepared')
  const second = new TwoPhaseCoordinator({ system: node.system, log })
  second.start()
  await node.advance(1000)
  assert.is((await node.settle(get(a))).balance, 80)
  assert.is((await node.settle(get(b))).balance, 20)
  // Its TxEnded was never written; recovery re-delivers (duplicates are acknowledged) and ends it.
  assert.equal(await node.settle(second.recover({ owners: 'all' })), ['t5'])
  await node.advance(1000)
  assert.equal(transitions(await log.read('t5')), ['TxDecided', 'TxEnded'])
  assert.equal((await node.settle(get(a))).log, ['prepare t5', 'commit t5'])
  await node.stop()
})

test('duplicated and reordered messages: a repeated prepare keeps its vote, an abort before its prepare makes it vote no', async () => {
  const node = new ManualNode()
  const a = node.system.spawn(account('a', 100), { name: 'a' })
  const req = { txId: 'd1', op: { amount: -10 }, coordinators: [] as string[] }
  assert.is(await node.settle(a.ask('prepare', req)), 'yes')
  assert.is(await node.settle(a.ask('prepare', req)), 'yes')
  assert.is((await node.settle(get(a))).held, 10)
  assert.is(await node.settle(a.ask('commit', { txId: 'd1' })), 'ack')
  assert.is(await node.settle(a.ask('commit', { txId: 'd1' })), 'ack')
  assert.is(await node.settle(a.ask('prepare', req)), 'yes', 'a duplicate prepare after the commit')
  assert.equal(await node.settle(get(a)), { balance: 90, held: 0, log: ['prepare d1', 'commit d1'] })
  assert.is(await node.settle(a.ask('abort', { txId: 'd2' })), 'ack')
  assert.is(await node.settle(a.ask('prepare', { txId: 'd2', op: { amount: -10 }, coordinators: [] as string[] })), 'no')
  assert.is((await node.settle(get(a))).held, 0)
  await node.stop()
})

test.run()
