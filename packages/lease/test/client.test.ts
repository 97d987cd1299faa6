// The client (Leases, Lease) against an in-process group: every step on a
// manual clock, so the times asserted here are virtual and exact.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, ManualClock, MemoryNetwork } from '@troupe/runtime'
import type { Clock, TimerHandle } from '@troupe/runtime'
import { Leases } from '../src/client/leases.js'
import type { LeasesOptions } from '../src/client/options.js'
import { isLeaseError, LeaseError } from '../src/lease-error.js'
import type { Lease } from '../src/client/lease.js'
import { FakeGroup, runFor, settle, waitFor } from './fake-group.js'
import { WatchStream } from '../src/client/watch-stream.js'
import { Waits } from '../src/client/waits.js'
import type { NameInfo } from '../src/core/commands.js'

function setup(options: LeasesOptions = {}) {
  const clock = new ManualClock(1_000_000)
  let r = 0
  const system = new ActorSystem({ name: 'n1', clock, random: () => ((r = (r * 9301 + 49297) % 233280) / 233280) })
  const group = new FakeGroup(system, clock)
  const client = (o: LeasesOptions = {}) => new Leases(system, group.client, { requestTimeoutMs: 500, ...options, ...o })
  return { clock, system, group, client, leases: client() }
}

function abortedAt(clock: Clock, lease: Lease): { at: number | null } {
  const out = { at: null as number | null }
  lease.signal.addEventListener('abort', () => (out.at = clock.now()))
  return out
}

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

test('keep-alives hold a lease across many TTLs, about every ttl/3', async () => {
  const { clock, group, leases } = setup()
  const lease = await waitFor(clock, leases.acquire('job', { ttlMs: 300 }))
  const before = group.applied.length
  await runFor(clock, 3000)
  assert.ok(lease.held)
  const keepAlives = group.applied.slice(before).filter((c) => c.op === 'renew').length
  assert.ok(keepAlives >= 25 && keepAlives <= 32, `${keepAlives} keep-alives in 10 TTLs`)
  assert.is(group.table.info('job').holders[0]?.token, lease.token)
})

test('many leases on one client renew in few commands, and every lease stays held', async () => {
  const { clock, group, leases } = setup()
  const held: Lease[] = []
  // 200 leases acquired over one TTL: their renewals fall due at 200 different times.
  for (let i = 0; i < 200; i++) {
    held.push(await waitFor(clock, leases.acquire(`entity/${i}`, { ttlMs: 1000 })))
    await runFor(clock, 5)
  }
  const before = { commands: group.applied.length, stats: leases.stats }
  await runFor(clock, 10_000) // ten TTLs
  for (const lease of held) assert.ok(lease.held, `${lease.name} is held`)
  const renews = group.applied.slice(before.commands).filter((c) => c.op === 'renew')
  const items = renews.reduce((n, c) => n + (c.op === 'renew' ? c.items.length : 0), 0)
  const perLease = items / held.length
  console.log(`  200 leases, 10 TTLs: ${renews.length} renew commands carrying ${items} keep-alives (${perLease.toFixed(1)} per lease)`)
  assert.ok(perLease >= 25 && perLease <= 45, `${perLease} keep-alives per lease in 10 TTLs`)
  assert.ok(renews.length <= 200, `${renews.length} commands: one per lease per renewal would be about 6,000`)
  assert.is(leases.stats.renewCommands - before.stats.renewCommands, renews.length)
})

test('a batch is cut at maxRenewItems; each lease counts from the send time of the command that carried it', async () => {
  const { clock, group, client } = setup()
  const leases = client({ maxRenewItems: 7 })
  group.latencyMs = 50
  const held: Lease[] = []
  for (let i = 0; i < 30; i++) held.push(await waitFor(clock, leases.acquire(`n${i}`, { ttlMs: 3000 })))
  const from = group.applied.length
  const sentAt: number[] = []
  const send = group.client.propose
  group.client.propose = (command, options) => {
    if (command.op === 'renew') sentAt.push(clock.now())
    return send(command, options)
  }
  await runFor(clock, 1100) // one renewal round
  const renews = group.applied.slice(from).filter((c) => c.op === 'renew')
  assert.ok(renews.length >= 5, `${renews.length} commands`)
  for (const c of renews) assert.ok(c.op === 'renew' && c.items.length <= 7, 'at most maxRenewItems per command')
  const margin = 3000 * 0.05 + 20
  for (const lease of held) assert.ok(sentAt.some((t) => lease.expiresAtMs === t + 3000 - margin), `${lease.name}: deadline ${lease.expiresAtMs} is a send time + ttl - margin`)
})

test('a batch where one entry was expired loses only that lease', async () => {
  const { clock, group, leases } = setup()
  const held: Lease[] = []
  for (let i = 0; i < 5; i++) held.push(await waitFor(clock, leases.acquire(`n${i}`, { ttlMs: 1000 })))
  const victim = held[2]!
  const entry = [...group.table.entries()].find((e) => e.requestId === victim.requestId)!
  group.apply({ op: 'expire', term: group.term, items: [{ name: victim.name, clientId: leases.clientId, requestId: victim.requestId, renewedIndex: entry.renewedIndex }] })
  const from = group.applied.length
  await runFor(clock, 400)
  const renews = group.applied.slice(from).filter((c) => c.op === 'renew')
  assert.is(renews.length, 1, 'the five went out together')
  assert.is(renews[0]!.op === 'renew' && renews[0].items.length, 5)
  assert.ok(victim.signal.aborted)
  assert.ok(isLeaseError(victim.signal.reason, 'LEASE_LOST'))
  assert.match((victim.signal.reason as Error).message, /gone|expired/)
  for (const lease of held) if (lease !== victim) assert.ok(lease.held, `${lease.name} unaffected`)
  await runFor(clock, 3000)
  for (const lease of held) if (lease !== victim) assert.ok(lease.held, `${lease.name} still held`)
})

test('the signal fires from the send time of the last confirmed request, before the leader can expire the lease', async () => {
  const { clock, group, leases } = setup()
  group.latencyMs = 100 // a slow reply: 200 ms round trip
  const sentAt = clock.now()
  const lease = await waitFor(clock, leases.acquire('job', { ttlMs: 1000 }))
  const fired = abortedAt(clock, lease)
  group.unreachable = true // no keep-alive gets through from now on
  let expiredAt: number | null = null
  while (expiredAt === null) {
    await runFor(clock, 5)
    if (group.table.info('job').holders.length === 0) expiredAt = clock.now()
  }
  assert.is(lease.expiresAtMs, sentAt + 1000 - (1000 * 0.05 + 20), 'deadline = send time + ttl - margin')
  assert.ok(fired.at !== null && fired.at <= lease.expiresAtMs, `signal fired at ${fired.at}`)
  assert.ok(fired.at! < expiredAt, `signal at ${fired.at}, expiry at ${expiredAt}`)
  assert.ok(expiredAt - (sentAt + 100) >= 1000, 'the leader waited a full TTL from the grant')
  assert.ok(isLeaseError(lease.signal.reason, 'LEASE_LOST'))
  assert.throws(() => lease.check(), (e: unknown) => isLeaseError(e, 'LEASE_LOST'))
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

test('when the group says the lease is gone, the next keep-alive fires the signal with LEASE_LOST', async () => {
  const { clock, group, leases } = setup()
  const lease = await waitFor(clock, leases.acquire('job', { ttlMs: 1000 }))
  // A leader whose clock runs far ahead judges it expired early (the table takes the leader's word).
  const entry = [...group.table.entries()].find((e) => e.requestId === lease.requestId)!
  group.apply({ op: 'expire', term: group.term, items: [{ name: 'job', clientId: leases.clientId, requestId: lease.requestId, renewedIndex: entry.renewedIndex }] })
  assert.equal(group.table.info('job').holders, [])
  await runFor(clock, 400)
  assert.ok(lease.signal.aborted)
  assert.match((lease.signal.reason as Error).message, /keep-alive/)
})

test('after a leader change a lease gets a fresh full TTL: the new leader waits a whole TTL after it takes over', async () => {
  const { clock, group, leases } = setup()
  const lease = await waitFor(clock, leases.acquire('job', { ttlMs: 1000 }))
  await runFor(clock, 500)
  group.elect() // a new term: the service judges afresh
  group.unreachable = true // and the holder cannot reach the new leader
  const electedAt = clock.now()
  let expiredAt: number | null = null
  while (expiredAt === null) {
    await runFor(clock, 5)
    if (group.table.info('job').holders.length === 0) expiredAt = clock.now()
  }
  assert.ok(expiredAt - electedAt >= 1000, `expired ${expiredAt - electedAt} ms after the leader change`)
  assert.ok(lease.signal.aborted)
})

/** A clock that can jump (a stalled process: time passes, no timer runs) and run at a rate. */
class StallingClock implements Clock {
  offsetMs = 0
  constructor(private readonly base: ManualClock) {}
  now(): number {
    return this.base.now() + this.offsetMs
  }
  setTimer(delayMs: number, fn: () => void): TimerHandle {
    return this.base.setTimer(delayMs, fn)
  }
  clearTimer(handle: TimerHandle): void {
    this.base.clearTimer(handle)
  }
}

function twoNodes() {
  const clock = new ManualClock(1_000_000)
  const clientClock = new StallingClock(clock)
  const net = new MemoryNetwork()
  const server = new ActorSystem({ name: 'server', clock, transport: net.transport() })
  const node = new ActorSystem({ name: 'client', clock: clientClock, transport: net.transport() })
  const group = new FakeGroup(server, clock)
  return { clock, clientClock, server, node, group }
}

test('an event-loop stall longer than the margin counts as loss; a shorter one does not', async () => {
  const { clock, clientClock, server, node, group } = twoNodes()
  await server.start()
  await node.start()
  const leases = new Leases(node, group.client)
  const lease = await waitFor(clock, leases.acquire('job', { ttlMs: 2000 }))
  assert.is(lease.marginMs, 2000 * 0.05 + 20)
  clientClock.offsetMs += 100 // under the 120 ms margin
  await runFor(clock, 200)
  assert.ok(lease.held, 'a 100 ms stall is within the margin')
  clientClock.offsetMs += 150
  await runFor(clock, 100)
  assert.not.ok(lease.held)
  assert.match((lease.signal.reason as Error).message, /stalled/)
  await settle()
})

test('withLease passes token and signal, and releases after, also when fn throws', async () => {
  const { clock, group, leases } = setup()
  const seen = await waitFor(clock, leases.withLease('job', async (token, signal) => ({ token, aborted: signal.aborted }), { ttlMs: 1000 }))
  assert.equal(seen, { token: 1, aborted: false })
  assert.equal(group.table.info('job').holders, [])
  const err = await waitFor(clock, leases.withLease('job', () => Promise.reject(new Error('boom')), { ttlMs: 1000 })).catch((e) => e)
  assert.is((err as Error).message, 'boom')
  await runFor(clock, 10)
  assert.equal(group.table.info('job').holders, [])
})

test('watch yields the holders now and on every change', async () => {
  const { clock, client } = setup()
  const [a, b, w] = [client(), client(), client()]
  const ctl = new AbortController()
  const seen: string[] = []
  const watching = (async () => {
    for await (const info of w.watch('job', { signal: ctl.signal, pollMs: 50 })) seen.push(info.holders.map((h) => h.clientId).join(',') || '-')
  })()
  await runFor(clock, 100)
  const la = await waitFor(clock, a.acquire('job', { ttlMs: 1000 }))
  await runFor(clock, 100)
  const pb = b.acquire('job', { ttlMs: 1000 })
  await runFor(clock, 100)
  await waitFor(clock, la.release())
  await waitFor(clock, pb)
  await runFor(clock, 100)
  ctl.abort()
  await waitFor(clock, watching)
  assert.equal(seen, ['-', a.clientId, b.clientId])
})

test('watch is pushed: an idle watch costs no reads, and each change arrives without one', async () => {
  const { clock, group, client } = setup()
  const [a, w] = [client(), client()]
  const ctl = new AbortController()
  const seen: NameInfo[] = []
  const watching = (async () => {
    for await (const info of w.watch('job', { signal: ctl.signal })) seen.push(info)
  })()
  await runFor(clock, 100)
  assert.is(seen.length, 1, 'the state now')
  const readsAfterStart = group.reads
  await runFor(clock, 10_000) // idle for 40 of the old poll intervals
  assert.is(group.reads, readsAfterStart, 'no reads while idle')
  for (let i = 0; i < 5; i++) {
    const lease = await waitFor(clock, a.acquire('job', { ttlMs: 1000 }))
    await runFor(clock, 50)
    assert.equal(seen.at(-1)?.holders.map((h) => h.token), [lease.token], 'the grant was pushed')
    await waitFor(clock, lease.release())
    await runFor(clock, 50)
    assert.equal(seen.at(-1)?.holders, [], 'the release was pushed')
  }
  assert.is(group.reads, readsAfterStart, 'changes came without reads')
  assert.is(seen.length, 11)
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.revision > seen[i - 1]!.revision, 'revisions grow, also once the name is idle and forgotten')
  assert.is(w.stats.watchEvents, 10)
  ctl.abort()
  await waitFor(clock, watching)
  assert.is(group.service.stats.watchers, 1, 'still registered until the next beat')
  await runFor(clock, 2000)
  assert.is(group.service.stats.watchers, 0, 'the beat\'s answer dropped it')
})

test('a member that goes quiet: the watch reads again after watchTimeoutMs and converges', async () => {
  const { clock, group, client } = setup()
  const [a, w] = [client(), client({ watchTimeoutMs: 1000, watchPollMs: 100 })]
  const ctl = new AbortController()
  const seen: NameInfo[] = []
  const watching = (async () => {
    for await (const info of w.watch('job', { signal: ctl.signal })) seen.push(info)
  })()
  await runFor(clock, 100)
  await group.service.stop() // no more pushes or beats; registrations are refused
  const lease = await waitFor(clock, a.acquire('job', { ttlMs: 5000 }))
  await runFor(clock, 200)
  assert.equal(seen.at(-1)?.holders, [], 'not pushed: the member is quiet')
  await runFor(clock, 1500)
  assert.equal(seen.at(-1)?.holders.map((h) => h.token), [lease.token], 'found by a read after the timeout')
  const reads = group.reads
  await waitFor(clock, lease.release())
  await runFor(clock, 300)
  assert.equal(seen.at(-1)?.holders, [], 'refused registrations fall back to polling')
  assert.ok(group.reads > reads)
  ctl.abort()
  await waitFor(clock, watching)
})

test('a watch stream never yields a state older than one it yielded, nor the same holders twice', async () => {
  const info = (revision: number, token: number): NameInfo => ({
    name: 'job', holders: token > 0 ? [{ clientId: 'c', requestId: token, mode: 'exclusive', token, value: null }] : [], waiters: 0, revision, lastToken: token,
  })
  const stream = new WatchStream('job')
  for (const i of [info(10, 10), info(5, 5), info(10, 10), info(12, 0), info(15, 0), info(11, 11), info(20, 20)]) stream.offer(i)
  stream.close()
  const out: number[] = []
  for (let i = await stream.next(); i !== null; i = await stream.next()) out.push(i.revision)
  assert.equal(out, [10, 12, 20])
})

test('elections: campaign, leader, observe, resign', async () => {
  const { clock, client } = setup()
  const [a, b, o] = [client(), client(), client()]
  const ctl = new AbortController()
  const seen: Array<string | null> = []
  const observing = (async () => {
    for await (const leader of o.observe('primary', { signal: ctl.signal, pollMs: 50 })) seen.push(leader?.value ?? null)
  })()
  await runFor(clock, 60)
  const la = await waitFor(clock, a.campaign('primary', 'node-a', { ttlMs: 1000 }))
  const pb = b.campaign('primary', 'node-b', { ttlMs: 1000 })
  await runFor(clock, 100)
  assert.equal(await waitFor(clock, o.leader('primary')), { value: 'node-a', token: la.token, clientId: a.clientId })
  await waitFor(clock, a.resign(la))
  const lb = await waitFor(clock, pb)
  assert.is(lb.value, 'node-b')
  await runFor(clock, 100)
  ctl.abort()
  await waitFor(clock, observing)
  assert.equal(seen, [null, 'node-a', 'node-b'])
})

test('close releases held leases and fails pending acquires with CLOSED', async () => {
  const { clock, group, client } = setup()
  const [a, b] = [client(), client()]
  const la = await waitFor(clock, a.acquire('job', { ttlMs: 1000 }))
  const pb = b.acquire('job', { ttlMs: 1000 })
  pb.catch(() => {}) // it rejects while we wait for close
  await runFor(clock, 20)
  await waitFor(clock, b.close())
  const err = await waitFor(clock, pb).catch((e) => e)
  assert.ok(isLeaseError(err, 'CLOSED'), String(err))
  await waitFor(clock, a.close())
  assert.ok(la.signal.aborted)
  await runFor(clock, 50)
  assert.equal(group.table.info('job').holders, [])
  assert.is(group.table.info('job').waiters, 0)
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
