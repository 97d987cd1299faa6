// A rolling upgrade with real processes: three nodes (fixtures/upgrade-node.ts
// on startNode) under steady load from this process, each in turn stopped
// with SIGTERM and restarted with the same name and data dir into the build
// that speaks wire version 3 and a newer app version; then rolled back to
// version 2 the same way. Checks: no acked write lost, every failure typed
// and retryable and then successful, lease tokens never go down and one
// token has one holder, the cluster version goes 2 -> 3 -> 2 and the
// version-3 extras travel only where both ends speak 3. No timing asserts.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { UpgradeCluster } from './fixtures/upgrade-cluster.js'
import type { Build } from './fixtures/upgrade-cluster.js'
import { UpgradeLoad, sleep } from './fixtures/upgrade-load.js'
import type { OpKind } from './fixtures/upgrade-load.js'

const OLD: Build = { next: false, appVersion: '1.0.0' }
const NEW: Build = { next: true, appVersion: '1.1.0' }
const NAMES = ['a', 'b', 'c']

test('rolling upgrade to wire version 3 and back under load: no acked write lost, every failure typed and retryable', async () => {
  const cluster = new UpgradeCluster()
  const load = new UpgradeLoad(cluster)
  const guard = setTimeout(() => void cluster.close(), 280_000) // never leave processes behind, whatever hangs
  try {
    // Form the cluster on the old build: a first, then b and c through it.
    const a = await cluster.spawn('a', OLD, [])
    const seeds = [{ node: 'a', address: a.address }]
    await Promise.all([cluster.spawn('b', OLD, seeds), cluster.spawn('c', OLD, seeds)])
    await Promise.all(NAMES.map((n) => cluster.ready(n)))
    for (const n of NAMES) load.up.add(n)
    load.start()
    await progress(load, cluster)
    assert.equal(await versions(cluster), { a: 2, b: 2, c: 2 })

    // Roll forward one node at a time.
    for (const name of NAMES) {
      await restart(cluster, load, name, NEW)
      const st = await status(cluster, name)
      if (name === 'b') {
        // Mixed: a and b speak 3 to each other, both speak 2 with c, and the cluster stays at 2.
        assert.equal(st.peerVersions, { a: 3, c: 2 }, 'b speaks 3 with a new peer and 2 with an old one')
        assert.equal(await versions(cluster), { a: 2, b: 2, c: 2 }, 'an old member holds the cluster version at 2')
        const old = await status(cluster, 'c')
        assert.equal(old.next.trailingFieldsSeen + old.next.notesReceived, 0, 'an old node gets no version-3 form')
      }
    }
    assert.equal(await eventuallyVersions(cluster, 3), { a: 3, b: 3, c: 3 }, 'cluster version 3 once every member speaks it')
    await progress(load, cluster)
    for (const name of NAMES) {
      const st = await status(cluster, name)
      assert.ok(st.next.trailingFieldsSeen > 0, `${name} received envelopes with the version-3 trailing field`)
      assert.ok(st.next.notesReceived > 0, `${name} received version-3 notes (a new message kind)`)
      for (const m of st.members.filter((m: any) => m.status === 'up')) assert.is(m.appVersion, NEW.appVersion, `${name} sees ${m.node} at the new app version`)
    }

    // Roll back one node at a time: the first old member takes the cluster version back to 2.
    for (const name of NAMES) {
      await restart(cluster, load, name, OLD)
      if (name === 'a') assert.equal(await eventuallyVersions(cluster, 2), { a: 2, b: 2, c: 2 }, 'one old member: cluster version 2')
    }
    const back = await status(cluster, 'a')
    assert.equal(back.peerVersions, { b: 2, c: 2 })
    await progress(load, cluster)
    await load.stop()

    // Every acked put reads back with its value; every counter holds at least its acked increments.
    const keys = [...load.acked.put.keys()]
    for (let i = 0; i < keys.length; i += 200) {
      const batch = keys.slice(i, i + 200)
      const { body } = await load.request('put', 'POST', '/kv/read', batch)
      assert.ok(body, 'reading the acked puts back')
      batch.forEach((k, j) => assert.is(body.values[j], load.acked.put.get(k), `acked put ${k}`))
    }
    const ids = [...load.counterAttempts.keys()].sort()
    const { body: counts } = await load.request('counter', 'POST', '/kv/read', ids.map((id) => `counter/${id}`))
    ids.forEach((id, j) => {
      const final = Number(counts.values[j] ?? 0)
      const acked = load.acked.counter.get(id) ?? 0
      assert.ok(final >= acked, `counter ${id}: ${final} >= ${acked} acked increments`)
      assert.ok(final <= load.counterAttempts.get(id)!, `counter ${id}: ${final} <= ${load.counterAttempts.get(id)} attempts (not doubled)`)
    })

    report(load, keys.length)
    assert.equal(load.violations, [], 'every failure was a typed retryable error that succeeded on retry; leases never went back')
    assert.ok(load.leaseSeen.length > 0, 'some node held the lease')
    assert.ok(load.successes.counter > 0 && load.successes.put > 0)
  } catch (err) {
    console.log(cluster.log.slice(-300).join('\n'))
    throw err
  } finally {
    clearTimeout(guard)
    await load.stop()
    await cluster.close()
  }
})

/**
 * Stops `name` with SIGTERM (graceful) and, as a load balancer would, keeps sending it requests until
 * its /ready says 503; then restarts it into `build` through the running nodes and waits until it is ready.
 */
async function restart(cluster: UpgradeCluster, load: UpgradeLoad, name: string, build: Build): Promise<void> {
  cluster.note(`--- stopping ${name}`)
  const code = await cluster.stop(name, async () => {
    for (let i = 0; i < 300; i++) {
      const r = await cluster.call(name, 'GET', '/ready')
      if (r.status !== 200) break
      await sleep(20)
    }
    load.up.delete(name)
  })
  assert.is(code, 0, `${name} shut down cleanly on SIGTERM`)
  const seeds = [...cluster.nodes.values()].map((p) => ({ node: p.name, address: p.address }))
  cluster.note(`--- starting ${name} (${build.next ? 'wire 3' : 'wire 2'}, ${build.appVersion})`)
  await cluster.spawn(name, build, seeds)
  await cluster.ready(name)
  load.up.add(name)
  await progress(load, cluster)
}

/** Waits until the load made progress of every kind on the current cluster. */
async function progress(load: UpgradeLoad, cluster: UpgradeCluster): Promise<void> {
  const start = { ...load.successes }
  const kinds: OpKind[] = ['counter', 'put', 'lease', 'notes']
  for (let i = 0; i < 600; i++) {
    if (kinds.every((k) => load.count(k) >= start[k] + 10)) return
    await sleep(100)
  }
  cluster.note(`no progress: ${JSON.stringify(load.successes)} since ${JSON.stringify(start)}`)
  throw new Error('the load made no progress for 60 s')
}

async function status(cluster: UpgradeCluster, name: string): Promise<any> {
  const r = await cluster.call(name, 'GET', '/status')
  if (r.status !== 200) throw new Error(`status of ${name}: ${JSON.stringify(r)}`)
  return r.body
}

async function versions(cluster: UpgradeCluster): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const n of NAMES) out[n] = (await status(cluster, n)).version
  return out
}

/** The cluster version every node reports once they agree on `want` (the old incarnations' removal reaches all), or what they report after 60 s. */
async function eventuallyVersions(cluster: UpgradeCluster, want: number): Promise<Record<string, number>> {
  let v = await versions(cluster)
  for (let i = 0; i < 300 && !Object.values(v).every((x) => x === want); i++) {
    await sleep(200)
    v = await versions(cluster)
  }
  return v
}

function report(load: UpgradeLoad, puts: number): void {
  const codes = [...load.errors].sort((x, y) => y[1] - x[1]).map(([c, n]) => `${c}=${n}`).join(' ') || 'none'
  const pauses = Object.entries(load.worstPauseMs).map(([k, ms]) => `${k} ${Math.round(ms)} ms`).join(', ')
  const tokens = new Set(load.leaseSeen.map((s) => s.token)).size
  console.log(`rolling upgrade: ${load.successes.counter} counter asks, ${puts} acked puts, ${load.successes.lease} lease polls (${tokens} tokens), ${load.notesSent} notes sent`)
  console.log(`  failed requests by code: ${codes}; retries: ${load.retries}`)
  console.log(`  worst pause a client saw: ${pauses}`)
}

test.run()
