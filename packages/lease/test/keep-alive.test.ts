// Holding a lease: batched keep-alives, the signal's deadline from the send
// time, loss (the group says gone, a stall), a fresh TTL after a leader change.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, ManualClock, MemoryNetwork } from '@troupe/runtime'
import type { Clock, TimerHandle } from '@troupe/runtime'
import { Leases } from '../src/client/leases.js'
import { isLeaseError } from '../src/lease-error.js'
import type { Lease } from '../src/client/lease.js'
import { FakeGroup, runFor, settle, waitFor } from './fake-group.js'
import { abortedAt, setup } from './client-setup.js'

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

test.run()
