import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { defineActor } from '@troupe/runtime'
import type { DeadLetter } from '@troupe/runtime'
import { Allocation, Sharding, entityId } from '../src/sharding/index.js'
import { TestCluster } from './cluster-helpers.js'

const Counter = defineActor({
  name: 'counter',
  initial: (ctx) => ({ id: entityId(ctx), n: 0 }),
  handlers: {
    add(s, by: number) {
      s.n += by
      return s.n
    },
    where: (_s, _: void, ctx) => ctx.system.name,
  },
})

/** Ids whose shard each node owns under members a, b. */
function idsOwnedBy(owner: string, count: number): string[] {
  const table = Allocation.compute(['a', 'b'], 64)
  const out: string[] = []
  for (let i = 0; out.length < count; i++) {
    const id = `e${i}`
    if (table.ownerOf(shardOfId(id)) === owner) out.push(id)
  }
  return out
}

let shardOfId: (id: string) => number

test('a node whose peer has not started sharding yet: asks and tells to entities the peer owns wait for its region (no ACTOR_NOT_FOUND)', async () => {
  const c = new TestCluster()
  await c.startAll(['a', 'b'])
  const a = c.node('a')
  const b = c.node('b')
  const notFound: DeadLetter[] = []
  // (a's requests for b's status do find no region there; entity messages must not.)
  b.system.events.on('deadLetter', (d) => void (d.reason === 'not-found' && d.type === 'route' && notFound.push(d)))
  const shA = Sharding.start(a.system, a.cluster, { shards: 64, tickMs: 100 })
  shA.register(Counter)
  shardOfId = (id) => shA.shardOf(id)
  const onB = idsOwnedBy('b', 5)
  const onA = idsOwnedBy('a', 2)
  const results: Array<{ id: string; value?: unknown; error?: unknown }> = []
  for (const id of onB) shA.entity(Counter, id).tell('add', 10)
  for (const id of [...onB, ...onA]) {
    shA.entity(Counter, id).ask('where').then(
      (value) => results.push({ id, value }),
      (error: unknown) => results.push({ id, error }),
    )
  }
  // b's cluster is up; its sharding starts 2 s later.
  await c.run(2000)
  assert.equal(results.filter((r) => r.error !== undefined), [], 'nothing failed while b had no region')
  assert.ok(shA.stats().buffered >= onB.length, `messages for b's entities wait in a's region (${shA.stats().buffered})`)
  const shB = Sharding.start(b.system, b.cluster, { shards: 64, tickMs: 100 })
  shB.register(Counter)
  await c.until(() => results.length === onB.length + onA.length, 5000, 'every ask answered')
  for (const r of results) {
    assert.is(r.error, undefined, `${r.id}: ${String(r.error)}`)
    assert.is(r.value, onB.includes(r.id) ? 'b' : 'a', r.id)
  }
  // The tells arrived too, before the asks (order per sender).
  for (const id of onB) assert.is(await askNow(c, shA.entity(Counter, id).ask('add', 1)), 11, id)
  assert.equal(notFound, [], 'nothing reached b before its region existed')
  await c.terminateAll()
})

test('a restarted peer whose new region is not up yet: a forwarded ask that bounces waits for the region', async () => {
  const c = new TestCluster()
  await c.startAll(['a', 'b'])
  const a = c.node('a')
  const b = c.node('b')
  const shA = Sharding.start(a.system, a.cluster, { shards: 64, tickMs: 100 })
  shA.register(Counter)
  shardOfId = (id) => shA.shardOf(id)
  let shB = Sharding.start(b.system, b.cluster, { shards: 64, tickMs: 100 })
  shB.register(Counter)
  const [id] = idsOwnedBy('b', 1)
  assert.is(await askNow(c, shA.entity(Counter, id).ask('add', 1)), 1)
  // b's region goes away (as in a restart of its services); a still has its status.
  await askNow(c, shB.stop())
  let result: { value?: unknown; error?: unknown } | null = null
  shA.entity(Counter, id).ask('where').then(
    (value) => (result = { value }),
    (error: unknown) => (result = { error }),
  )
  await c.run(1000)
  assert.is(result, null, 'the ask waits while b has no region')
  shB = Sharding.start(b.system, b.cluster, { shards: 64, tickMs: 100 })
  shB.register(Counter)
  await c.until(() => result !== null, 5000, 'the ask answered')
  assert.equal(result, { value: 'b' })
  await c.terminateAll()
})

/** Settles a promise while virtual time runs. */
async function askNow<T>(c: TestCluster, p: Promise<T>): Promise<T> {
  let done = false
  let value: T | undefined
  let error: unknown
  p.then(
    (v) => ((done = true), (value = v)),
    (e: unknown) => ((done = true), (error = e)),
  )
  await c.until(() => done, 5000, 'promise settled')
  if (error !== undefined) throw error
  return value as T
}

test.run()
