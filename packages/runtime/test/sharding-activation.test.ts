// Strict single activation: with an activationGuard, an entity runs only
// under a permit, so two nodes whose views both claim its shard never run it
// at once; a lost permit stops it; permits are released when it stops.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { defineActor, entityActivation, entityId } from '@troupe/runtime'
import type { ActivationGuard, ActivationPermit, DeadLetter } from '@troupe/runtime'
import { rejectsWith } from './helpers.js'
import { ActivationTracker, TestCluster, recorderKind, settle, until } from './sharding-helpers.js'

/** An in-process lock table standing in for a lease group: FIFO per entity, increasing tokens. */
class LockTable {
  private nextToken = 1
  readonly holders = new Map<string, FakePermit>()
  private readonly queues = new Map<string, Array<{ node: string; grant: (p: FakePermit) => void; signal: AbortSignal }>>()
  readonly log: string[] = []
  /** When set, acquires fail with this error instead (until cleared). */
  failWith: Error | null = null
  acquires = 0

  guard(node: string): ActivationGuard {
    return {
      acquire: (kind, id, signal) => {
        this.acquires++
        if (this.failWith !== null) return Promise.reject(this.failWith)
        const key = `${kind}/${id}`
        return new Promise<ActivationPermit>((resolve, reject) => {
          const queue = this.queues.get(key) ?? []
          this.queues.set(key, queue)
          const waiter = { node, grant: resolve as (p: FakePermit) => void, signal }
          queue.push(waiter)
          signal.addEventListener('abort', () => {
            const i = queue.indexOf(waiter)
            if (i >= 0) queue.splice(i, 1)
            this.log.push(`${node} gave up ${key}`)
            reject(new Error('aborted'))
          })
          this.pump(key)
        })
      },
    }
  }

  private pump(key: string): void {
    if (this.holders.has(key)) return
    const next = this.queues.get(key)?.shift()
    if (next === undefined) return
    const permit = new FakePermit(this.nextToken++, () => {
      if (this.holders.get(key) !== permit) return
      this.holders.delete(key)
      this.log.push(`${next.node} released ${key}#${permit.token}`)
      this.pump(key)
    })
    this.holders.set(key, permit)
    this.log.push(`${next.node} granted ${key}#${permit.token}`)
    next.grant(permit)
  }
}

class FakePermit implements ActivationPermit {
  private readonly controller = new AbortController()
  heldByClock = true
  released = 0
  constructor(
    readonly token: number,
    private readonly onRelease: () => void,
  ) {}
  get signal(): AbortSignal {
    return this.controller.signal
  }
  get held(): boolean {
    return this.heldByClock
  }
  /** The guard decides the permit is lost (a lease that could not be renewed). */
  lose(): void {
    this.controller.abort(new Error('lost'))
  }
  release(): void {
    this.released++
    this.onRelease()
  }
}

/** An entity that writes its state through a fence: the store keeps the highest token per id. */
function fencedKind(store: Map<string, { token: number; value: number }>, rejected: string[]) {
  return defineActor({
    name: 'fenced',
    initial: (ctx) => ({ id: entityId(ctx), token: entityActivation(ctx)?.token ?? 0 }),
    handlers: {
      write(s, value: number) {
        const row = store.get(s.id)
        if (row !== undefined && row.token > s.token) {
          rejected.push(`${s.id}@${s.token}`)
          return false
        }
        store.set(s.id, { token: s.token, value })
        return true
      },
      token: (s) => s.token,
    },
  })
}

/** Two nodes that each see only themselves: both own every shard (a partition before downing). */
async function splitBrain(kinds: Parameters<typeof TestCluster.start>[1], table: LockTable | null): Promise<TestCluster> {
  const cluster = new TestCluster(kinds)
  for (const name of ['a', 'b']) await cluster.add(name, [name], table === null ? {} : { activationGuard: table.guard(name), permitRetryMs: 20 })
  return cluster
}

test('without a guard, two nodes that both own a shard run the entity twice (the failure the guard exists for)', async () => {
  const tracker = new ActivationTracker()
  const Recorder = recorderKind(tracker)
  const cluster = await splitBrain([Recorder], null)
  await cluster.node('a').sharding.entity(Recorder, 'x').ask('add', 1)
  await cluster.node('b').sharding.entity(Recorder, 'x').ask('add', 1)
  assert.equal(tracker.where('x').sort(), ['a', 'b'])
  await cluster.terminate()
})

test('with a guard, the second owner waits for the permit; it runs only after the first stopped, with a higher token', async () => {
  const tracker = new ActivationTracker()
  const Recorder = recorderKind(tracker)
  const table = new LockTable()
  const cluster = await splitBrain([Recorder], table)
  assert.is(await cluster.node('a').sharding.entity(Recorder, 'x').ask('add', 1), 1)
  const onB = cluster.node('b').sharding.entity(Recorder, 'x').ask('add', 10)
  await until(() => cluster.node('b').sharding.stats().acquiring === 1, 'b waiting for the permit')
  await settle(20)
  assert.equal(tracker.where('x'), ['a'], 'b must not run x while a holds the permit')
  // a's permit is lost (say its lease could not be renewed): a stops x, then b gets it.
  table.holders.get('recorder/x')!.lose()
  assert.is(await onB, 10, 'b runs a fresh activation once a released the permit')
  assert.equal(tracker.where('x'), ['b'])
  assert.equal(tracker.doubles, [])
  assert.is(cluster.node('a').sharding.stats().permitsLost, 1)
  assert.equal(table.log, ['a granted recorder/x#1', 'a released recorder/x#1', 'b granted recorder/x#2'])
  await cluster.terminate()
})

test('state writes carry the token: the store refuses a write from an older activation', async () => {
  const store = new Map<string, { token: number; value: number }>()
  const rejected: string[] = []
  const Fenced = fencedKind(store, rejected)
  const table = new LockTable()
  const cluster = await splitBrain([Fenced], table)
  const a = cluster.node('a').sharding.entity(Fenced, 'acct')
  const b = cluster.node('b').sharding.entity(Fenced, 'acct')
  assert.is(await a.ask('token'), 1)
  assert.is(await a.ask('write', 5), true)
  const bToken = b.ask('token')
  await until(() => cluster.node('b').sharding.stats().acquiring === 1, 'b waiting')
  table.holders.get('fenced/acct')!.lose()
  assert.is(await bToken, 2)
  assert.is(await b.ask('write', 7), true)
  assert.equal(store.get('acct'), { token: 2, value: 7 })
  assert.equal(rejected, [])
  await cluster.terminate()
})

test('a message that finds the permit lost by the clock is not handled: the ask fails with ACTIVATION_LOST', async () => {
  const tracker = new ActivationTracker()
  const Recorder = recorderKind(tracker)
  const table = new LockTable()
  const cluster = await splitBrain([Recorder], table)
  const ref = cluster.node('a').sharding.entity(Recorder, 'y')
  assert.is(await ref.ask('add', 1), 1)
  const dead: DeadLetter[] = []
  cluster.node('a').system.events.on('deadLetter', (d) => dead.push(d))
  // Lost by the holder's clock, before the signal fired (a stalled timer).
  table.holders.get('recorder/y')!.heldByClock = false
  await rejectsWith(ref.ask('add', 1), 'ACTIVATION_LOST')
  assert.ok(dead.some((d) => d.reason === 'activation-lost' && d.recipient === '/entity/recorder/y'))
  await cluster.terminate()
})

test('passivation and sharding.stop release permits; the next message acquires again', async () => {
  const tracker = new ActivationTracker()
  const Recorder = recorderKind(tracker)
  const table = new LockTable()
  const cluster = new TestCluster([Recorder], { activationGuard: table.guard('a'), passivateAfterMs: 50, tickMs: 10 })
  await cluster.add('a', ['a'])
  const ref = cluster.node('a').sharding.entity(Recorder, 'p')
  assert.is(await ref.ask('add', 1), 1)
  const first = table.holders.get('recorder/p')!
  await until(() => tracker.where('p').length === 0, 'passivation')
  await until(() => first.released === 1, 'release after passivation')
  assert.is(await ref.ask('add', 1), 1, 'a fresh activation')
  const second = table.holders.get('recorder/p')!
  assert.ok(second.token > first.token)
  await cluster.node('a').sharding.stop()
  assert.is(second.released, 1, 'stop releases the permits of the entities it stopped')
  assert.is(table.holders.size, 0)
  await cluster.terminate()
})

test('a guard that fails is retried with backoff while the messages wait; nothing is lost', async () => {
  const tracker = new ActivationTracker()
  const Recorder = recorderKind(tracker)
  const table = new LockTable()
  table.failWith = new Error('lease group unavailable')
  const cluster = new TestCluster([Recorder], { activationGuard: table.guard('a'), permitRetryMs: 10, tickMs: 10 })
  await cluster.add('a', ['a'])
  const ref = cluster.node('a').sharding.entity(Recorder, 'r')
  ref.tell('add', 1)
  ref.tell('add', 2)
  await until(() => cluster.node('a').sharding.stats().permitFailures >= 3, 'retries')
  assert.equal(tracker.where('r'), [])
  table.failWith = null
  assert.is(await ref.ask('add', 3), 6, 'the held messages ran, in order, before the ask')
  await cluster.terminate()
})

test('a shard that moves away while its entity waits for a permit gives the request up and forwards the messages', async () => {
  const tracker = new ActivationTracker()
  const Recorder = recorderKind(tracker)
  const table = new LockTable()
  const cluster = new TestCluster([Recorder], { activationGuard: table.guard('a'), handoffTimeoutMs: 50, tickMs: 10 })
  await cluster.add('a', ['a'])
  // Someone else holds the permit, so a's request waits.
  const blocker = await table.guard('elsewhere').acquire('recorder', 'm', new AbortController().signal)
  const pending = cluster.node('a').sharding.entity(Recorder, 'm').ask('add', 4)
  await until(() => cluster.node('a').sharding.stats().acquiring === 1, 'a waiting')
  // b joins with its own guard, and owns every shard in the views below.
  await cluster.add('b', ['b'], { activationGuard: table.guard('b') })
  cluster.node('a').view.set(['b'])
  await until(() => table.log.includes('a gave up recorder/m'), 'a gives up its request')
  assert.is(cluster.node('a').sharding.stats().acquiring, 0)
  blocker.release()
  assert.is(await pending, 4, 'b ran the forwarded message under its own permit')
  assert.equal(tracker.where('m'), ['b'])
  await cluster.terminate()
})

test.run()
