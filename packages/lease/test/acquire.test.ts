// The acquire protocol: grants, the FIFO queue and its hints, lost replies,
// waiter polls, tryAcquire, waitMs and abort, late grants, a reused clientId.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ManualClock } from '@troupe/runtime'
import { isLeaseError, LeaseError } from '../src/lease-error.js'
import { runFor, waitFor } from './fake-group.js'
import { setup } from './client-setup.js'
import { Waits } from '../src/client/waits.js'

test('acquire grants with the log index as token; release frees it and fires the signal with LEASE_RELEASED', async () => {
  const { clock, group, leases } = setup()
  const lease = await waitFor(clock, leases.acquire('job', { ttlMs: 1000 }))
  assert.is(lease.token, group.index)
  assert.is(group.table.info('job').holders[0]?.token, lease.token)
  assert.ok(lease.held)
  await waitFor(clock, lease.release())
  assert.ok(lease.signal.aborted)
  assert.ok(isLeaseError(lease.signal.reason, 'LEASE_RELEASED'))
  assert.equal(group.table.info('job').holders, [])
  await waitFor(clock, lease.release()) // idempotent
})

test('waiters are served FIFO, and only the head is woken (by a hint, before its next poll)', async () => {
  const { clock, group, client } = setup()
  const [a, b, c] = [client(), client(), client()]
  const la = await waitFor(clock, a.acquire('job', { ttlMs: 3000 }))
  const pb = b.acquire('job', { ttlMs: 3000 })
  await runFor(clock, 10)
  const pc = c.acquire('job', { ttlMs: 3000 })
  await runFor(clock, 10)
  assert.is(group.table.info('job').waiters, 2)
  let bAt = 0
  let cDone = false
  pb.then(() => (bAt = clock.now()))
  pc.then(() => (cDone = true))
  const releasedAt = clock.now()
  await waitFor(clock, la.release())
  const lb = await waitFor(clock, pb)
  assert.ok(bAt - releasedAt < 50, `b was granted ${bAt - releasedAt} ms after the release: the hint should beat the 1000 ms poll`)
  assert.ok(lb.token > la.token)
  await runFor(clock, 100)
  assert.not.ok(cDone, 'c is still waiting')
  assert.equal(group.table.info('job').holders.map((h) => h.clientId), [b.clientId])
  await waitFor(clock, lb.release())
  const lc = await waitFor(clock, pc)
  assert.ok(lc.token > lb.token)
})

test('a lost reply is retried with the same request id: one entry, one token', async () => {
  const { clock, group, leases } = setup()
  group.loseReplies = 1
  const lease = await waitFor(clock, leases.acquire('job', { ttlMs: 1000 }))
  const acquires = group.applied.filter((c) => c.op === 'acquire')
  assert.is(acquires.length, 2, 'sent twice')
  assert.is(acquires[0]!.op === 'acquire' && acquires[1]!.op === 'acquire' && acquires[0].requestId === acquires[1].requestId, true)
  assert.is(group.table.info('job').holders.length, 1)
  assert.is(lease.token, group.table.info('job').holders[0]!.token)
})

test('a waiter whose reply was lost keeps its place in the queue', async () => {
  const { clock, group, client } = setup()
  const [a, b, c] = [client(), client(), client()]
  const la = await waitFor(clock, a.acquire('job', { ttlMs: 2000 }))
  group.loseReplies = 1
  const pb = b.acquire('job', { ttlMs: 2000 })
  await runFor(clock, 5)
  const pc = c.acquire('job', { ttlMs: 2000 })
  await runFor(clock, 1000) // b retries after its timeout
  assert.is(group.table.info('job').waiters, 2)
  await waitFor(clock, la.release())
  const lb = await waitFor(clock, pb)
  assert.equal(group.table.info('job').holders.map((h) => h.clientId), [b.clientId])
  await waitFor(clock, lb.release())
  await waitFor(clock, pc)
})

test('many waiters of one client poll in its keep-alive batches: a few renew commands, not one poll each', async () => {
  const { clock, group, client } = setup()
  const [a, b] = [client(), client()]
  const names = Array.from({ length: 50 }, (_, i) => `job-${i}`)
  const held = await waitFor(clock, Promise.all(names.map((n) => a.acquire(n, { ttlMs: 900 }))))
  const before = group.applied.length
  const waiting = names.map((n) => b.acquire(n, { ttlMs: 900 }))
  await runFor(clock, 9000) // 10 TTLs in the queue
  const mine = group.applied.slice(before).filter((c) => 'clientId' in c && c.clientId === b.clientId)
  const acquires = mine.filter((c) => c.op === 'acquire').length
  const renews = mine.filter((c) => c.op === 'renew').length
  assert.is(acquires, 50, 'one acquire each, no acquire polls')
  assert.ok(renews >= 25 && renews <= 40, `${renews} renew commands kept 50 waiters queued for 10 TTLs (one poll each would be 1,500)`)
  for (const n of names) assert.is(group.table.info(n).waiters, 1, `b still queued for ${n}`)
  await waitFor(clock, Promise.all(held.map((l) => l.release())))
  const got = await waitFor(clock, Promise.all(waiting))
  got.forEach((l, i) => assert.ok(l.token > held[i]!.token))
  assert.is(b.stats.grantedByHint, 50)
})

test('a waiter whose hint is lost learns of its grant from its next poll', async () => {
  const { clock, group, client } = setup()
  const [a, b] = [client(), client()]
  const la = await waitFor(clock, a.acquire('job', { ttlMs: 900 }))
  const pb = b.acquire('job', { ttlMs: 900 })
  await runFor(clock, 10)
  ;(group.service as unknown as { hint: () => void }).hint = () => {} // hints go nowhere
  const releasedAt = clock.now()
  await waitFor(clock, la.release())
  const lb = await waitFor(clock, pb)
  assert.ok(clock.now() - releasedAt <= 310, `granted ${clock.now() - releasedAt} ms after the release: by the poll due a third of the TTL after the last`)
  assert.ok(lb.token > la.token)
  assert.ok(lb.held)
  assert.is(b.stats.grantedByHint, 0)
})

test('a hint kept from before the request answered "queued" was sent is not taken for a grant of it', async () => {
  const clock = new ManualClock(1_000)
  const waits = new Waits(clock)
  const hint = { name: 'job', clientId: 'c', requestId: 7, token: 42 }
  waits.grant(hint) // arrives before anyone waits: kept
  clock.advance(50)
  // The request was sent again at 1,040 and answered "queued": the kept hint is older, so about an ended entry.
  const stale = waits.waitForGrant(7, 100, undefined, 1_040)
  clock.advance(100)
  assert.is(await waitFor(clock, stale), null)
  waits.grant(hint)
  assert.equal(await waits.waitForGrant(7, 100, undefined, clock.now()), hint, 'one that arrived after the send counts')
})

test('tryAcquire: null when held, a lease when free', async () => {
  const { clock, client } = setup()
  const [a, b] = [client(), client()]
  const la = await waitFor(clock, a.tryAcquire('job', { ttlMs: 1000 }))
  assert.ok(la)
  assert.is(await waitFor(clock, b.tryAcquire('job', { ttlMs: 1000 })), null)
  await waitFor(clock, la!.release())
  assert.ok(await waitFor(clock, b.tryAcquire('job', { ttlMs: 1000 })))
})

test('waitMs: LEASE_TIMEOUT, and the place in the queue is given up', async () => {
  const { clock, group, client } = setup()
  const [a, b, c] = [client(), client(), client()]
  const la = await waitFor(clock, a.acquire('job', { ttlMs: 5000 }))
  const pb = b.acquire('job', { ttlMs: 5000, waitMs: 300 })
  await runFor(clock, 5)
  const pc = c.acquire('job', { ttlMs: 5000 })
  const err = await waitFor(clock, pb).catch((e) => e)
  assert.ok(isLeaseError(err, 'LEASE_TIMEOUT'), String(err))
  await runFor(clock, 50)
  assert.is(group.table.info('job').waiters, 1, 'b cancelled')
  await waitFor(clock, la.release())
  await waitFor(clock, pc)
})

test('an aborted acquire fails with LEASE_ABORTED, and the place in the queue is given up', async () => {
  const { clock, group, client } = setup()
  const [a, b] = [client(), client()]
  await waitFor(clock, a.acquire('job', { ttlMs: 5000 }))
  const ctl = new AbortController()
  const pb = b.acquire('job', { ttlMs: 5000, signal: ctl.signal })
  await runFor(clock, 100)
  assert.is(group.table.info('job').waiters, 1)
  ctl.abort()
  const err = await waitFor(clock, pb).catch((e) => e)
  assert.ok(isLeaseError(err, 'LEASE_ABORTED'), String(err))
  await runFor(clock, 50)
  assert.is(group.table.info('job').waiters, 0, 'b cancelled')
})

test('a grant that arrives after its deadline is not used and not given back: the same request asks again and renews it', async () => {
  const { clock, group, leases } = setup({ requestTimeoutMs: 2000 })
  group.latencyMs = 470 // the answer comes 940 ms after the send; the deadline is 1000 - 70 ms after it
  const pending = leases.acquire('job', { ttlMs: 1000 })
  await runFor(clock, 600)
  group.latencyMs = 1
  const lease = await waitFor(clock, pending)
  const acquires = group.applied.filter((c) => c.op === 'acquire')
  assert.is(acquires.length, 2, 'asked twice')
  assert.ok(acquires.every((c) => c.op === 'acquire' && c.requestId === lease.requestId), 'with the same request')
  assert.is(group.applied.filter((c) => c.op === 'release').length, 0, 'nothing released')
  assert.equal(group.table.info('job').holders.map((h) => h.token), [lease.token], 'the first grant, renewed')
  assert.ok(lease.held)
  assert.ok(lease.expiresAtMs > clock.now() + 900, 'the deadline counts from the second send')
})

test('grants that keep arriving too late end the acquire with LEASE_TIMEOUT and give the grant back', async () => {
  const { clock, group, leases } = setup({ requestTimeoutMs: 2000 })
  group.latencyMs = 470
  const err = await waitFor(clock, leases.acquire('job', { ttlMs: 1000 })).catch((e) => e)
  assert.ok(isLeaseError(err, 'LEASE_TIMEOUT'), String(err))
  assert.match((err as Error).message, /after their deadline/)
  assert.is(group.applied.filter((c) => c.op === 'acquire').length, 3)
  await runFor(clock, 2000)
  assert.equal(group.table.info('job').holders, [])
})

test('an acquire answered after close() fails with CLOSED and its grant is given back', async () => {
  const { clock, group, leases } = setup()
  group.latencyMs = 50
  const pending = leases.acquire('job', { ttlMs: 1000 })
  pending.catch(() => {})
  await runFor(clock, 10)
  await waitFor(clock, leases.close())
  const err = await waitFor(clock, pending).catch((e) => e)
  assert.ok(isLeaseError(err, 'CLOSED'), String(err))
  assert.equal(leases.held(), [])
  await runFor(clock, 500)
  assert.equal(group.table.info('job').holders, [])
})

test('a clientId reused by a second client is a typed error, not a broken invariant', async () => {
  const { clock, client } = setup()
  const first = client({ clientId: 'fixed' })
  for (let i = 0; i < 5; i++) await waitFor(clock, (await waitFor(clock, first.acquire('job', { ttlMs: 1000 }))).release())
  await waitFor(clock, first.close())
  const second = client({ clientId: 'fixed' })
  const err = await waitFor(clock, second.acquire('job', { ttlMs: 1000 })).catch((e) => e)
  assert.ok(isLeaseError(err, 'INVALID_ARGUMENT'), String(err))
  assert.match((err as Error).message, /same clientId/)
})

test('bad arguments are typed errors', async () => {
  const { leases } = setup()
  // ttlMs 44: the default margin (5% + 20 ms = 22.2 ms) is more than half of it.
  for (const [name, o] of [['', {}], ['x', { ttlMs: 0 }], ['x', { ttlMs: 44 }], ['x', { mode: 'both' }], ['x', { waitMs: -1 }]] as const) {
    const err = await leases.acquire(name, o as never).catch((e) => e)
    assert.ok(err instanceof LeaseError && err.code === 'INVALID_ARGUMENT', `${name} ${JSON.stringify(o)}: ${String(err)}`)
  }
})

test.run()
