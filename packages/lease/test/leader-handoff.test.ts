// A queued acquire across a move of the lease group's leadership: the holder
// releases right after the leader handed off (as a node does when it shuts
// down gracefully) and the waiter gets the lease at once, not a third of its
// TTL later when its keep-alive poll would find the grant.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { checkLeaseSafety, SimWorld, simSeeds, withSeed } from '@troupe/testkit'
import { Leases } from '../src/client/leases.js'
import { AppliedLeases, clientBoot, memberBoot } from './sim-harness.js'
import type { ClientApp, MemberApp } from './sim-harness.js'

const TTL_MS = 120_000
/** Slow reap rounds: a new leader learns it leads at its next round, so this is the window a grant can fall into. */
const REAP_INTERVAL_MS = 5000
/** The waiter must have the lease within this after the release: well before the next reap round, and far from its poll TTL / 3 later. */
const GRANT_BOUND_MS = 1000

async function handoffThenRelease(seed: number, leaderLeaves: boolean): Promise<number> {
  const world = new SimWorld({ seed, network: { latencyMs: { min: 1, max: 5 } } })
  try {
    const members = ['n1', 'n2', 'n3']
    const applied = new AppliedLeases(() => world.now)
    for (const m of members) world.addNode(m, memberBoot(members, applied, REAP_INTERVAL_MS))
    world.addNode('waiter', clientBoot(members, 1))
    await world.waitUntilUp(5000)
    await world.runFor(3 * REAP_INTERVAL_MS) // a leader is elected, and every service has seen its role
    const status = await world.waitFor(world.node<MemberApp>('n1').app.group.status())
    const leader = status?.leader
    assert.ok(leader, 'a leader')
    const [next, third] = members.filter((m) => m !== leader) as [string, string]
    // The holder's client is on the member that keeps following: its requests reach the new leader at once.
    const holderNode = world.node<MemberApp>(third).app
    const holder = new Leases(holderNode.system, holderNode.group, { requestTimeoutMs: 1000 })
    const waiter = world.node<ClientApp>('waiter').app.leases[0]!
    const held = await world.waitFor(holder.acquire('singleton', { ttlMs: TTL_MS }), 10_000)
    const waiting = waiter.acquire('singleton', { ttlMs: TTL_MS, waitMs: TTL_MS })
    let granted: number | null = null
    void waiting.then(() => (granted = world.now), () => undefined)
    await world.runFor(200) // queued
    assert.is((await world.waitFor(waiter.get('singleton'))).waiters, 1, 'the waiter is queued')
    await world.waitFor(world.node<MemberApp>(leader!).app.group.transferLeadership(next, { timeoutMs: 5000 }), 10_000)
    // The old leader goes away right after handing off (or stays, and no longer leads).
    if (leaderLeaves) world.crash(leader!)
    const releasedAt = world.now
    await world.waitFor(held.release(), 10_000)
    const lease = await world.waitFor(waiting, TTL_MS)
    assert.ok(lease.token > held.token, 'a newer fencing token')
    assert.equal(checkLeaseSafety({ log: applied.log(), replicas: applied.replicaLogs() }), [], 'at most one holder, tokens only grow')
    await world.waitFor(lease.release(), 10_000)
    return granted! - releasedAt
  } finally {
    world.dispose()
  }
}

test(`a waiter queued before the lease group's leadership moved is granted as soon as the holder releases after the move (${GRANT_BOUND_MS} ms bound, TTL ${TTL_MS} ms)`, async () => {
  const took: string[] = []
  for (const seed of simSeeds(6, 61)) {
    await withSeed(seed, async () => {
      for (const leaderLeaves of [true, false]) {
        const ms = await handoffThenRelease(seed, leaderLeaves)
        took.push(`${Math.round(ms)}`)
        assert.ok(ms < GRANT_BOUND_MS, `seed ${seed}, old leader ${leaderLeaves ? 'crashed' : 'stayed'}: granted ${Math.round(ms)} ms after the release`)
      }
    }, { replay: 'pnpm test lease' })
  }
  console.log(`  granted after the handoff and release in ${took.join(', ')} ms`)
})

test.run()
