import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Nemesis } from '../src/sim/nemesis.js'
import { SimWorld } from '../src/sim/sim-world.js'

const NAMES = ['a', 'b', 'c', 'd', 'e']

async function world5(seed: number) {
  const world = new SimWorld({ seed })
  for (const name of NAMES) {
    world.addNode(name, async (env) => {
      await env.transport.start(name, { receive() {} })
      return {}
    })
  }
  await world.waitUntilUp(10)
  return world
}

test('injects every enabled kind of fault, never more nodes down than allowed, and heals all on stop', async () => {
  const world = await world5(3)
  const rates = NAMES.map((n) => world.node(n).clockModel.rate)
  const nemesis = new Nemesis(world, { intervalMs: 100, durationMs: { min: 50, max: 400 }, partitions: true, crashes: true, pauses: true, clockSkew: true, flakyLinks: true, maxActive: 3, maxDown: 1 }).start()
  let worstDown = 0
  const sample = () => {
    worstDown = Math.max(worstDown, NAMES.filter((n) => world.node(n).state !== 'up' || world.node(n).paused).length)
    world.after(5, sample)
  }
  sample()
  await world.runFor(20_000)
  nemesis.stop()
  console.log(`  faults: ${JSON.stringify(nemesis.counts)}; most nodes down or paused at once: ${worstDown}`)
  for (const kind of ['partition', 'crash', 'pause', 'clock', 'flaky'] as const) assert.ok(nemesis.counts[kind] > 0, `${kind} injected`)
  assert.ok(worstDown <= 1, `at most one node down or paused at a time (saw ${worstDown})`)
  assert.equal(nemesis.activeFaults, [])
  await world.runFor(500)
  for (const a of NAMES) {
    assert.ok(world.node(a).up, `${a} is up again`)
    for (const b of NAMES) assert.not.ok(world.network.isBlocked(a, b), `${a}>${b} healed`)
  }
  assert.equal(NAMES.map((n) => world.node(n).clockModel.rate), rates, 'clock rates restored')
  assert.equal(NAMES.map((n) => world.network.link(n, NAMES[(NAMES.indexOf(n) + 1) % 5]!).dropProbability), [0, 0, 0, 0, 0], 'flaky links restored')
  assert.ok(nemesis.log.some((l) => l.includes('healed')))
})

test('what the nemesis does follows the seed, and goes into the trace hash', async () => {
  async function run(seed: number) {
    const world = await world5(seed)
    const nemesis = new Nemesis(world, { intervalMs: 200, partitions: true, crashes: true, pauses: true }).start()
    await world.runFor(5000)
    nemesis.stop()
    return { log: nemesis.log.join('\n'), hash: world.traceHash }
  }
  const first = await run(21)
  const again = await run(21)
  const other = await run(22)
  assert.is(again.log, first.log)
  assert.is(again.hash, first.hash)
  assert.is.not(other.log, first.log)
  assert.is.not(other.hash, first.hash)
})

test('with no kinds enabled it does nothing', async () => {
  const world = await world5(4)
  const nemesis = new Nemesis(world, { intervalMs: 50 }).start()
  await world.runFor(2000)
  assert.equal(nemesis.log, [])
})

test.run()
