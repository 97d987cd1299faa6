import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { FAST, TestCluster } from './cluster-helpers.js'

const Chaos = suite('cluster under random faults')

const NAMES = ['a', 'b', 'c', 'd', 'e']

/**
 * Random partitions, heals, crashes, stalls and restarts; then the network heals and
 * every crashed or downed node restarts. Guarantee: membership converges to
 * all five up with one leader, and no downed incarnation is a member.
 */
Chaos('after faults stop and nodes restart, membership converges (20 seeds)', async () => {
  for (let seed = 1; seed <= 20; seed++) {
    let s = seed * 7919
    const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) % 10_000) / 10_000
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]
    // Every node is a seed: a restarted first seed must find the running cluster, not start a new one.
    const c = new TestCluster({ ...FAST, seeds: NAMES })
    await c.startAll(NAMES)
    const downed = new Map<string, number>()
    for (const n of NAMES) c.node(n).cluster.on('memberDown', (m) => downed.set(m.node, Math.max(downed.get(m.node) ?? 0, m.incarnation)))
    const history: string[] = []
    for (let step = 0; step < 8; step++) {
      const r = rand()
      if (r < 0.35) {
        const left = NAMES.filter(() => rand() < 0.5)
        const right = NAMES.filter((n) => !left.includes(n))
        c.partition(left, right)
        history.push(`partition ${left}|${right}`)
      } else if (r < 0.6) {
        c.net.heal()
        history.push('heal')
      } else if (r < 0.7) {
        const victim = pick(NAMES)
        await c.node(victim).system.terminate()
        history.push(`kill ${victim}`)
      } else if (r < 0.8) {
        const n = c.node(pick(NAMES))
        const ms = Math.floor(rand() * 2000)
        n.clock.freeze()
        n.transport.freeze()
        await c.run(ms)
        n.clock.thaw()
        n.transport.thaw()
        history.push(`stall ${n.name} ${ms} ms`)
      } else {
        const n = pick(NAMES)
        if (c.node(n).cluster.isTerminated) {
          await c.node(n).system.terminate()
          await c.add(n)
          history.push(`restart ${n}`)
        }
      }
      await c.run(Math.floor(rand() * 3000))
    }
    c.net.heal()
    for (const n of NAMES) {
      if (!c.node(n).cluster.isTerminated) continue
      await c.node(n).system.terminate()
      await c.add(n)
    }
    await c.until(() => c.allUp(NAMES), 20_000, `seed ${seed}: converge after ${history.join(', ')}`)
    for (const n of NAMES) {
      for (const m of c.node(n).cluster.members()) {
        const d = downed.get(m.node)
        assert.ok(d === undefined || m.incarnation > d, `seed ${seed}: ${n} lists downed ${m.node}#${m.incarnation}`)
      }
    }
    await c.terminateAll()
  }
})

Chaos.run()
