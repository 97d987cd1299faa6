// The MIT 6.824 (6.5840) Raft lab scenarios, 2A–2D, on RaftGroup in the
// simulator: WAL storage on SimDisks with torn writes, crashes that lose
// unsynced data, seeded networks. Each scenario checks its own property and,
// throughout, election safety (one leader per term among observed statuses)
// and state machine safety (equal histories at every applied index).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Prng } from '@troupe/testkit'
import { simSeeds, withSeed } from '@troupe/testkit'
import { GroupWorld } from './sim-groups.js'

const seeds = simSeeds(Number(process.env.RAFT_SIM_SEEDS ?? 4))

function scenario(name: string, body: (seed: number) => Promise<void>): void {
  test(name, async () => {
    for (const seed of seeds) await withSeed(seed, body, { replay: 'pnpm test raft' })
  })
}

scenario('2A re-election: a disconnected leader is replaced; without a quorum nobody leads', async (seed) => {
  const w = new GroupWorld(seed, 3)
  await w.start()
  const l1 = await w.checkOneLeader()
  w.disconnect(l1)
  const l2 = await w.checkOneLeader()
  assert.is.not(l2, l1)
  // The old leader rejoins: it must not disturb the new one (at most one leader in the newest term).
  w.connect(l1)
  const l3 = await w.checkOneLeader()
  const [x, y] = w.names.filter((n) => n !== l3) as [string, string]
  w.disconnect(l3)
  w.disconnect(x)
  await w.checkNoLeader([y])
  w.connect(x)
  await w.checkOneLeader()
  w.connect(l3)
  await w.checkOneLeader()
  w.check()
  w.dispose()
})

scenario('2B no commit without a quorum: a leader with 2 of 5 cannot commit; after healing, writes commit again', async (seed) => {
  const w = new GroupWorld(seed, 5)
  await w.start()
  await w.one('k')
  const leader = await w.checkOneLeader()
  const followers = w.names.filter((n) => n !== leader)
  for (const f of followers.slice(1)) w.disconnect(f)
  const v = w.value()
  const r = await w.propose(leader, { op: 'put', key: 'k', value: v }, 2000)
  assert.is(r.ok, false, 'a command without a quorum was acknowledged')
  assert.not.ok(w.history.values.has(v), 'a command without a quorum was applied')
  for (const f of followers) w.connect(f)
  await w.checkOneLeader()
  await w.one('k')
  await w.converged()
  w.check()
  w.dispose()
})

scenario('2B rejoin: a partitioned leader\'s uncommitted entries are discarded when it rejoins', async (seed) => {
  const w = new GroupWorld(seed, 3)
  await w.start()
  await w.one('k')
  const l1 = await w.checkOneLeader()
  w.disconnect(l1)
  const lost = [w.value(), w.value(), w.value()]
  const attempts = lost.map((value) => w.submit(l1, { op: 'put', key: 'k', value }, 600))
  await w.one('k')
  const l2 = await w.checkOneLeader()
  w.disconnect(l2)
  w.connect(l1)
  await w.one('k')
  w.connect(l2)
  await w.one('k')
  for (const r of await w.world.waitFor(Promise.all(attempts))) assert.is(r.ok, false)
  await w.converged()
  for (const v of lost) assert.not.ok(w.history.values.has(v), `uncommitted value ${v} of the partitioned leader was applied`)
  w.check()
  w.dispose()
})

scenario('2B backup: leaders back up quickly over long runs of conflicting entries', async (seed) => {
  const w = new GroupWorld(seed, 5)
  await w.start()
  await w.one('k')
  const l1 = await w.checkOneLeader()
  const [f0, f1, f2, f3] = w.names.filter((n) => n !== l1) as [string, string, string, string]
  // The leader and one follower get 50 commands that cannot commit.
  for (const f of [f1, f2, f3]) w.disconnect(f)
  const lost1 = Array.from({ length: 50 }, () => w.value())
  const doomed1 = lost1.map((value, i) => w.submit(l1, { op: 'put', key: `a${i}`, value }, 500))
  await w.world.runFor(600)
  w.disconnect(l1)
  w.disconnect(f0)
  for (const f of [f1, f2, f3]) w.connect(f)
  // The other three commit 50 commands at the same indexes.
  const ok1 = await w.world.waitFor(Promise.all(Array.from({ length: 50 }, (_, i) => w.app(f1).kv.propose({ op: 'put', key: `b${i}`, value: w.value() }))), 20_000)
  assert.is(ok1.length, 50)
  const l2 = await w.checkOneLeader()
  const other = [f1, f2, f3].find((n) => n !== l2)!
  w.disconnect(other)
  const lost2 = Array.from({ length: 50 }, () => w.value())
  const doomed2 = lost2.map((value, i) => w.submit(l2, { op: 'put', key: `c${i}`, value }, 500))
  await w.world.runFor(600)
  // The original leader, its follower and `other` form a majority; the last two must back up over 50 entries.
  for (const n of w.names) w.disconnect(n)
  for (const n of [l1, f0, other]) w.connect(n)
  const ok2 = await w.world.waitFor(Promise.all(Array.from({ length: 50 }, (_, i) => w.app(other).kv.propose({ op: 'put', key: `d${i}`, value: w.value() }))), 20_000)
  assert.is(ok2.length, 50)
  for (const n of w.names) w.connect(n)
  const started = w.world.now
  await w.one('k')
  await w.converged()
  console.log(`  seed ${seed}: all 5 replicas equal ${w.world.now - started} virtual ms after the last reconnection`)
  await w.world.waitFor(Promise.all([...doomed1, ...doomed2]))
  for (const v of [...lost1, ...lost2]) assert.not.ok(w.history.values.has(v), `uncommitted value ${v} was applied`)
  w.check()
  w.dispose()
})

scenario('2C persistence: acknowledged writes survive crashes of every node, of the leader, of a majority', async (seed) => {
  const w = new GroupWorld(seed, 3)
  await w.start()
  const rng = new Prng(seed)
  const written = new Map<string, number>()
  const write = async (key: string) => written.set(key, await w.one(key))
  await write('p0')
  for (const n of w.names) w.crash(n)
  for (const n of w.names) await w.restart(n)
  await write('p1')
  for (let i = 2; i < 8; i++) {
    const leader = await w.checkOneLeader()
    const victims = i % 2 === 0 ? [leader] : rng.shuffle([...w.names]).slice(0, 2) // the leader, or a majority
    for (const v of victims) w.crash(v)
    if (victims.length === 1) await write(`p${i}`)
    for (const v of victims) await w.restart(v)
    await write(`q${i}`)
  }
  for (const [key, value] of written) assert.is(await w.read(rng.pick(w.names), key), value, `${key} lost`)
  await w.converged()
  w.check()
  w.dispose()
})

scenario('2C figure 8 (unreliable): leaders crash with uncommitted entries of older terms on a lossy, reordering network', async (seed) => {
  const w = new GroupWorld(seed, 5, { network: { dropProbability: 0.1, duplicateProbability: 0.05, reorderProbability: 0.3, reorderMaxMs: 200 } })
  await w.start()
  const rng = new Prng(seed)
  const acked = new Map<string, number>()
  let n = 0
  for (let iter = 0; iter < 40; iter++) {
    const up = w.names.filter((x) => w.up(x))
    const key = `f${n++}`
    const value = w.value()
    void w.submit(rng.pick(up), { op: 'put', key, value }, 1000).then((r) => r.ok && acked.set(key, value))
    await w.world.runFor(rng.next() < 0.1 ? rng.range(200, 1000) : rng.range(0, 100))
    const leaders = (await w.statuses()).filter((s) => s.role === 'leader')
    if (leaders.length > 0 && rng.next() < 0.5) w.crash(rng.pick(leaders).node)
    if (w.names.filter((x) => w.up(x)).length < 3) await w.restart(rng.pick(w.names.filter((x) => !w.up(x))))
  }
  w.world.network.configure({ dropProbability: 0, duplicateProbability: 0, reorderProbability: 0 })
  for (const x of w.names) await w.restart(x)
  await w.one('final', 15_000)
  await w.converged(15_000)
  for (const [key, value] of acked) assert.is(await w.read(rng.pick(w.names), key), value, `${key} lost`)
  w.check()
  w.dispose()
})

scenario('2C churn: nodes crash, restart and get cut off while clients write; every acknowledged write survives', async (seed) => {
  const w = new GroupWorld(seed, 5, { network: { dropProbability: 0.02, reorderProbability: 0.05 } })
  await w.start()
  const rng = new Prng(seed)
  const acked = new Map<string, number>()
  let running = true
  let n = 0
  const client = async (id: number) => {
    while (running) {
      const up = w.names.filter((x) => w.up(x))
      const key = `c${id}.${n++}`
      const value = w.value()
      if (up.length > 0) {
        const r = await w.submit(rng.pick(up), { op: 'put', key, value }, 1500)
        if (r.ok) acked.set(key, value)
      }
      await new Promise<void>((resolve) => w.world.after(rng.range(5, 50), resolve))
    }
  }
  const clients = [0, 1, 2].map(client)
  // Random crashes, restarts, disconnections and reconnections, at most two nodes faulty at a time
  // (the lab's churn, kept within what 5 nodes tolerate so that writes keep flowing).
  const faulty = () => w.names.filter((x) => !w.connected(x))
  for (let t = 0; t < 40; t++) {
    const roll = rng.next()
    const bad = faulty()
    if (roll < 0.5 && bad.length < 2) {
      const x = rng.pick(w.names.filter((n) => w.connected(n)))
      if (roll < 0.25) w.crash(x)
      else w.disconnect(x)
    } else if (bad.length > 0) {
      const x = rng.pick(bad)
      w.connect(x)
      if (w.world.node(x).state === 'down') w.world.restart(x)
    }
    await w.world.runFor(rng.range(50, 400))
  }
  running = false
  for (const x of w.names) w.connect(x)
  for (const x of w.names) await w.restart(x)
  w.world.network.configure({ dropProbability: 0, reorderProbability: 0 })
  await w.world.waitFor(Promise.all(clients.map((c) => c.catch(() => {}))), 30_000)
  await w.one('final', 15_000)
  await w.converged(15_000)
  assert.ok(acked.size > 20, `only ${acked.size} writes were acknowledged`)
  for (const [key, value] of acked) assert.is(await w.read(rng.pick(w.names), key), value, `${key} lost`)
  w.check()
  w.dispose()
})

scenario('2D snapshots: a crashed node that missed compacted entries is brought back by InstallSnapshot', async (seed) => {
  const w = new GroupWorld(seed, 3, { snapshotEveryEntries: 10, network: { dropProbability: 0.03 } })
  await w.start()
  const rng = new Prng(seed)
  const acked = new Map<string, number>()
  let installs = 0
  let k = 0
  for (let iter = 0; iter < 6; iter++) {
    const leader = await w.checkOneLeader()
    const victim = rng.next() < 0.3 ? leader : rng.pick(w.names)
    w.crash(victim)
    const writer = w.names.find((x) => x !== victim)!
    for (let i = 0; i < 25; i++) {
      const key = `s${k++}`
      const value = w.value()
      const r = await w.propose(writer, { op: 'put', key, value }, 3000)
      if (r.ok) acked.set(key, value)
    }
    await w.restart(victim)
    await w.converged(15_000)
    installs += (await w.statuses([victim]))[0]!.snapshotsInstalled
  }
  assert.ok(installs > 0, 'no snapshot was installed: the scenario did not test InstallSnapshot')
  for (const [key, value] of acked) assert.is(await w.read(rng.pick(w.names), key), value, `${key} lost`)
  w.check()
  w.dispose()
})

test.run()
