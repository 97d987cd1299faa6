// Simulated lease groups on the real RaftGroup (testkit SimWorld). Seeds are
// bounded here; LEASE_SIM_SEEDS=<n> runs more, SIM_SEED=<n> replays one.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { checkLeaseRelease } from '@troupe/testkit'
import { SimWorld, simSeeds, withSeed } from '@troupe/testkit'
import { ActorSystem } from '@troupe/runtime'
import { isLeaseError } from '../src/lease-error.js'
import { runLeaseLinearizability } from './lease-lin.js'
import { runLeaseSim } from './lease-sim.js'
import { AppliedLeases, clientBoot, CounterLog, counterDef, HOST, memberBoot, sleep } from './sim-harness.js'
import type { ClientApp, CounterProtocol, MemberApp } from './sim-harness.js'

const replay = 'pnpm test lease'
const seedCount = Number(process.env.LEASE_SIM_SEEDS ?? 6)

test(`etcd lock workload under the nemesis: no lost or doubled increment, checker passes (${seedCount} seeds)`, async () => {
  const started = performance.now()
  let increments = 0
  let fenced = 0
  let frozen = 0
  for (const seed of simSeeds(seedCount, 1)) {
    const r = await withSeed(seed, () => runLeaseSim(seed), { replay })
    increments += r.stats.increments!
    fenced += r.stats.fencedWrites! + r.stats.fencedReads!
    frozen += r.stats.frozenChecks!
  }
  console.log(`  lease sim: ${seedCount} seeds, ${increments} increments, ${frozen} checks passed on a frozen clock, ${fenced} stale accesses fenced, ${Math.round(performance.now() - started)} ms`)
  // The clock freezes make holders act after their lease ended: the fence must have had work to do.
  assert.ok(fenced > 0, 'no stale access reached the counter: the workload did not exercise the fence')
})

test(`lease operations (tryAcquire, release, get) are linearizable under partitions and leader kills (${Math.ceil(seedCount / 2)} seeds)`, async () => {
  let ops = 0
  for (const seed of simSeeds(Math.ceil(seedCount / 2), 101)) {
    const r = await withSeed(seed, () => runLeaseLinearizability(seed), { replay })
    ops += r.stats.operations!
  }
  console.log(`  linearizability: ${ops} operations checked`)
})

test('the same seed gives the same run', async () => {
  const a = await runLeaseSim(5, { faultyMs: 3000, recoverMs: 1500 })
  const b = await runLeaseSim(5, { faultyMs: 3000, recoverMs: 1500 })
  assert.is(a.traceHash, b.traceHash)
  assert.equal(a.stats, b.stats)
})

/** Three members, a fenced (or plain) counter on 'db', and client nodes with one lease client each. */
async function smallWorld(seed: number, clients: string[], fenced = true) {
  const world = new SimWorld({ seed, network: { latencyMs: { min: 1, max: 5 } } })
  const members = ['n1', 'n2', 'n3']
  const applied = new AppliedLeases(() => world.now)
  const counter = new CounterLog()
  for (const m of members) world.addNode(m, memberBoot(members, applied))
  world.addNode('db', async (env) => {
    const system = new ActorSystem({ ...env.system })
    await system.start()
    system.spawn(counterDef(counter, () => world.now, fenced), { name: 'counter' })
    return { system }
  })
  for (const c of clients) world.addNode(c, clientBoot(members, 1))
  await world.waitUntilUp(5000)
  await world.runFor(1500) // a leader is elected
  const client = (name: string) => {
    const app = world.node<ClientApp>(name).app
    return { app, leases: app.leases[0]!, db: app.system.remoteRef<CounterProtocol>('db', '/user/counter') }
  }
  return { world, members, applied, counter, client }
}

async function pausedHolderWritesLate(fenced: boolean) {
  const { world, counter, client } = await smallWorld(11, ['ca', 'cb'], fenced)
  const a = client('ca')
  const b = client('cb')
  const la = await world.waitFor(a.leases.acquire('job', { ttlMs: 1000 }))
  const read = await world.waitFor(a.db.ask('read', { token: la.token, holder: 'a' }))
  assert.ok(read.ok)
  // A stalls between its read and its write for three TTLs, and then writes
  // without looking at its signal (as a naive client, or one whose write was
  // already on its way, would).
  const pausedAt = world.now
  world.pause('ca', 3000)
  const lateWrite = sleep(a.app.system, 1).then(() => a.db.ask('write', { token: la.token, holder: 'a', value: (read as { value: number }).value + 1 }))
  const lb = await world.waitFor(b.leases.acquire('job', { ttlMs: 1000 }), 5000)
  assert.ok(lb.token > la.token)
  const rb = await world.waitFor(b.db.ask('read', { token: lb.token, holder: 'b' }))
  const wb = await world.waitFor(b.db.ask('write', { token: lb.token, holder: 'b', value: (rb as { value: number }).value + 1 }))
  assert.ok(wb.ok)
  assert.ok(world.now < pausedAt + 3000, 'B wrote while A was still stalled')
  const wa = await world.waitFor(lateWrite, 5000)
  const signalled = la.signal.aborted
  await world.waitFor(lb.release())
  world.dispose()
  return { wa, value: counter.value, signalled, tokenB: lb.token }
}

test('a paused holder wakes after expiry and writes: the fence rejects the write (without it an increment is lost)', async () => {
  const fenced = await pausedHolderWritesLate(true)
  assert.equal(fenced.wa, { ok: false, highest: fenced.tokenB }, "A's write is refused: B's token is the highest the counter saw")
  assert.is(fenced.value, 1, "only B's increment took effect, and A was told")
  assert.ok(fenced.signalled, "A's signal had fired by the time it resumed")
  const plain = await pausedHolderWritesLate(false)
  assert.equal(plain.wa, { ok: true })
  assert.is(plain.value, 1, 'without the fence both increments "succeeded" and the counter is still 1: one was lost')
})

test('a crashed holder\'s lease is free within TTL + election + reap, also when the leader dies with it', async () => {
  const ttlMs = 1000
  // Failover of an idle (quiesced) group: followers notice the silent leader after the host's
  // livenessTimeoutMs (1500 ms default), then elect within 2 x electionTicks ticks; the new leader
  // writes its tick, and after a full TTL from it the reaper (every 50 ms) commits the expiry.
  const failoverMs = 1500 + 2 * HOST.electionTicks * HOST.tickMs
  const boundFor = (leaderDies: boolean) => ttlMs + (leaderDies ? failoverMs : 0) + 50 + 300
  const seen: number[] = []
  const seenWithLeader: number[] = []
  for (const seed of simSeeds(4, 21)) {
    await withSeed(seed, async () => {
      for (const killLeader of [false, true]) {
        const { world, members, applied, client } = await smallWorld(seed, ['ca', 'cb'])
        const a = client('ca')
        const b = client('cb')
        const la = await world.waitFor(a.leases.acquire('job', { ttlMs }))
        await world.runFor(world.random('t').range(0, 900))
        const crashAt = world.now
        world.crash('ca')
        if (killLeader) {
          const leader = members.find((m) => world.node<MemberApp>(m).app.service.leading)
          assert.ok(leader, 'a leader')
          world.crash(leader!)
        }
        const lb = await world.waitFor(b.leases.acquire('job', { ttlMs }), 10_000)
        const end = applied.log().find((e) => e.kind === 'end' && e.holder === `${a.leases.clientId}#${la.requestId}`)
        assert.ok(end && end.kind === 'end' && end.reason === 'expired')
        ;(killLeader ? seenWithLeader : seen).push(end.timeMs! - crashAt)
        const violations = checkLeaseRelease(applied.log(), [{ holder: `${a.leases.clientId}#${la.requestId}`, atMs: crashAt }], boundFor(killLeader), world.now)
        assert.equal(violations, [], `leader killed: ${killLeader}`)
        assert.ok(lb.token > la.token)
        world.dispose()
      }
    }, { replay })
  }
  const show = (xs: number[]) => xs.map((ms) => Math.round(ms)).join(', ')
  console.log(`  crashed holder freed after ${show(seen)} ms (bound ${boundFor(false)}); with its leader: ${show(seenWithLeader)} ms (bound ${boundFor(true)})`)
})

test('one client holding 100 leases keeps every one across many TTLs and a leader kill, with batched keep-alives', async () => {
  // Long enough to ride out a failover (the group notices a dead leader within its 1.5 s liveness timeout, then elects).
  const ttlMs = 4000
  for (const seed of simSeeds(2, 41)) {
    await withSeed(seed, async () => {
      const { world, members, applied, client } = await smallWorld(seed, ['ca'])
      const a = client('ca')
      const held = await world.waitFor(Promise.all(Array.from({ length: 100 }, (_, i) => a.leases.acquire(`entity/${i}`, { ttlMs }))), 10_000)
      const before = a.leases.stats
      await world.runFor(4 * ttlMs)
      const leader = members.find((m) => world.node<MemberApp>(m).app.service.leading)
      assert.ok(leader, 'a leader')
      world.crash(leader!)
      await world.runFor(ttlMs)
      world.restart(leader!)
      await world.runFor(6 * ttlMs)
      const lost = held.filter((l) => !l.held)
      assert.equal(lost.map((l) => `${l.name}: ${String(l.signal.reason)}`), [], 'every lease still held')
      assert.is(applied.log().filter((e) => e.kind === 'end').length, 0, 'the group expired none')
      const commands = a.leases.stats.renewCommands - before.renewCommands
      const items = a.leases.stats.renewItems - before.renewItems
      console.log(`  seed ${seed}: 100 leases over ${11} TTLs with a leader kill: ${commands} renew commands, ${items} keep-alives`)
      assert.ok(commands * 20 <= items, `${commands} commands for ${items} keep-alives: not batched`)
      world.dispose()
    }, { replay })
  }
})

test('the signal fires before the group could expire the lease: a cut-off holder learns first', async () => {
  const { world, applied, client } = await smallWorld(3, ['ca', 'cb'])
  const a = client('ca')
  const la = await world.waitFor(a.leases.acquire('job', { ttlMs: 1000 }))
  let firedAt: number | null = null
  la.signal.addEventListener('abort', () => (firedAt = world.now))
  world.network.isolate('ca')
  await world.runFor(3000)
  const expired = applied.expiredAt('job', `${a.leases.clientId}#${la.requestId}`)
  assert.ok(firedAt !== null && expired !== undefined)
  assert.ok(firedAt! < expired!, `signal ${firedAt}, expiry ${expired}`)
  assert.ok(isLeaseError(la.signal.reason, 'LEASE_LOST'))
  world.dispose()
})

test.run()
