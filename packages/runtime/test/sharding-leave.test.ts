import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { defineActor } from '@troupe/runtime'
import { Allocation, Sharding, entityId } from '../src/sharding/index.js'
import { TestCluster } from './cluster-helpers.js'

const handled: Array<{ node: string; id: string; seq: number }> = []
const Counter = defineActor({
  name: 'counter',
  initial: (ctx) => ({ id: entityId(ctx), n: 0 }),
  handlers: {
    add(s, seq: number, ctx) {
      handled.push({ node: ctx.system.name, id: s.id, seq })
      s.n++
      return s.n
    },
    where: (_s, _: void, ctx) => ctx.system.name,
  },
})

const NAMES = ['a', 'b', 'c']

async function startAll(c: TestCluster): Promise<Map<string, Sharding>> {
  await c.startAll(NAMES)
  const out = new Map<string, Sharding>()
  for (const name of NAMES) {
    const node = c.node(name)
    const sh = Sharding.start(node.system, node.cluster, { shards: 64, tickMs: 50, handoffTimeoutMs: 2000 })
    sh.register(Counter)
    out.set(name, sh)
  }
  await c.run(500)
  return out
}

test('cluster.leave() hands every shard of the leaver off, messages it held follow, and whenHandedOff() resolves once it hosts none', async () => {
  handled.length = 0
  const c = new TestCluster()
  const sh = await startAll(c)
  const table = Allocation.compute(NAMES, 64)
  const onC = Array.from({ length: 200 }, (_, i) => `e${i}`).filter((id) => table.ownerOf(sh.get('a')!.shardOf(id)) === 'c').slice(0, 8)
  const asks: Array<Promise<unknown>> = []
  for (const id of onC) asks.push(sh.get('c')!.entity(Counter, id).ask('add', 0))
  await c.until(() => handled.length === onC.length, 5000, 'first messages handled')
  assert.ok(sh.get('c')!.stats().entities === onC.length, 'the entities run on c')

  let handedOff = false
  void sh.get('c')!.whenHandedOff().then(() => (handedOff = true))
  await c.run(500)
  assert.is(handedOff, false, 'c still owns shards while it is up')

  const left = c.node('c').cluster.leave()
  // Messages keep coming, through c itself too, while c leaves.
  let seq = 1
  for (let round = 0; round < 20; round++) {
    for (const id of onC) for (const from of NAMES) asks.push(sh.get(from)!.entity(Counter, id).ask('add', seq++))
    await c.run(20)
  }
  await c.until(() => handedOff, 10_000, 'c handed its shards off')
  const stats = sh.get('c')!.stats()
  assert.is(stats.entities, 0)
  assert.ok(stats.handoffs >= 1, 'shards were released')
  await c.until(() => handled.length === asks.length, 10_000, 'every message handled')
  const results = await Promise.allSettled(asks)
  assert.equal(results.filter((r) => r.status === 'rejected'), [], 'no message failed')
  // After the handoff, each entity lives on its new owner; c's entities saw every message once.
  const two = Allocation.compute(['a', 'b'], 64)
  for (const id of onC) {
    const heir = two.ownerOf(sh.get('a')!.shardOf(id))
    const mine = handled.filter((h) => h.id === id)
    assert.is(new Set(mine.map((h) => h.seq)).size, mine.length, `${id}: each message handled once`)
    assert.is(mine.at(-1)!.node, heir, `${id} ends on ${heir}`)
    assert.is(await askNow(c, sh.get('a')!.entity(Counter, id).ask('where')), heir)
  }
  await askNow(c, left)
  await c.terminateAll()
})

test('whenHandedOff() resolves when sharding stops, and at once once stopped', async () => {
  const c = new TestCluster()
  const sh = await startAll(c)
  let done = false
  void sh.get('b')!.whenHandedOff().then(() => (done = true))
  await c.run(100)
  assert.is(done, false)
  await askNow(c, sh.get('b')!.stop())
  await c.until(() => done, 1000, 'resolved by stop')
  await askNow(c, sh.get('b')!.whenHandedOff())
  await c.terminateAll()
})

async function askNow<T>(c: TestCluster, p: Promise<T>): Promise<T> {
  let settled = false
  let value: T | undefined
  let error: unknown
  p.then(
    (v) => ((settled = true), (value = v)),
    (e: unknown) => ((settled = true), (error = e)),
  )
  await c.until(() => settled, 10_000, 'promise settled')
  if (error !== undefined) throw error
  return value as T
}

test.run()
