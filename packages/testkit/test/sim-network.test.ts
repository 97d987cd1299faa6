import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { LinkConfig } from '../src/sim/link-config.js'
import type { NodeEnv } from '../src/sim/sim-node.js'
import { SimWorld } from '../src/sim/sim-world.js'

type Arrival = { at: number; from: string; n: number }

/** A world of bare transports: frames carry a sequence number, receivers record arrivals. */
async function bareWorld(names: string[], network: Partial<LinkConfig>, seed = 1) {
  const world = new SimWorld({ seed, network })
  const nodes = names.map((name) =>
    world.addNode(name, async (env: NodeEnv) => {
      const got: Arrival[] = []
      const disconnected: string[] = []
      await env.transport.start(name, {
        receive: (from, frame) => got.push({ at: world.now, from, n: frame.length > 4 ? -1 : new DataView(frame.buffer, frame.byteOffset).getUint32(0) }),
        disconnected: (node) => disconnected.push(node),
      })
      return { env, got, disconnected }
    }),
  )
  await world.waitUntilUp(10)
  const send = (from: string, to: string, n: number, size = 4) => {
    const frame = new Uint8Array(size)
    if (size === 4) new DataView(frame.buffer).setUint32(0, n)
    world.node<{ env: NodeEnv }>(from).app.env.transport.send(to, frame)
  }
  return { world, nodes, send, got: (name: string) => world.node<{ got: Arrival[] }>(name).app.got }
}

const seqs = (arrivals: Arrival[]) => arrivals.map((a) => a.n)
const range = (n: number) => Array.from({ length: n }, (_, i) => i)

test('latency stays in its bounds and a plain link is FIFO even when latencies vary', async () => {
  const { world, send, got } = await bareWorld(['a', 'b'], { latencyMs: { min: 5, max: 40 } })
  const sentAt = new Map<number, number>()
  // Spaced out: each frame's own latency shows.
  for (let n = 0; n < 50; n++) {
    sentAt.set(n, world.now)
    send('a', 'b', n)
    await world.runFor(50)
  }
  const delays = got('b').map((a) => a.at - sentAt.get(a.n)!)
  assert.ok(delays.every((d) => d >= 5 && d <= 40), `delays within 5..40: ${delays}`)
  assert.ok(Math.max(...delays) > 30 && Math.min(...delays) < 15, 'latencies actually vary')
  // Back to back: later frames must wait for earlier, slower ones.
  for (let n = 50; n < 250; n++) {
    send('a', 'b', n)
    await world.runFor(1)
  }
  await world.runFor(100)
  assert.equal(seqs(got('b')), range(250))
})

test('loss, duplication and reordering happen at about their configured rates', async () => {
  const { world, send, got } = await bareWorld(['a', 'b'], { latencyMs: { min: 1, max: 10 }, dropProbability: 0.2, duplicateProbability: 0.1, reorderProbability: 0.1, reorderMaxMs: 100 })
  for (let n = 0; n < 2000; n++) {
    send('a', 'b', n)
    await world.runFor(0.5)
  }
  await world.runFor(200)
  const arrived = seqs(got('b'))
  const distinct = new Set(arrived)
  const lost = 2000 - distinct.size
  const doubled = arrived.length - distinct.size
  let overtaken = 0
  for (let i = 1; i < arrived.length; i++) if (arrived[i]! < arrived[i - 1]!) overtaken++
  console.log(`  2000 frames: ${lost} lost, ${doubled} doubled, ${overtaken} out of order; stats ${JSON.stringify(world.network.stats)}`)
  assert.ok(lost > 300 && lost < 500, `~20% lost (${lost})`)
  assert.ok(doubled > 80 && doubled < 240, `~10% of the survivors doubled (${doubled})`)
  assert.ok(overtaken > 50, `reordering happened (${overtaken})`)
})

test('partitions: symmetric, one-way, isolation; frames in flight are lost; restore and heal', async () => {
  const { world, send, got } = await bareWorld(['a', 'b', 'c'], { latencyMs: { min: 10, max: 10 } })
  const net = world.network
  send('a', 'b', 1)
  const cut = net.partition(['a'], ['b', 'c'])
  send('a', 'b', 2)
  send('b', 'a', 3)
  send('b', 'c', 4)
  await world.runFor(20)
  assert.equal(seqs(got('b')), [], 'the frame in flight when the partition began was lost too')
  assert.equal(seqs(got('a')), [])
  assert.equal(seqs(got('c')), [4], 'b and c are on the same side')
  net.restore(cut)
  const oneWay = net.block('a', 'b')
  send('a', 'b', 5)
  send('b', 'a', 6)
  await world.runFor(20)
  assert.equal(seqs(got('b')), [])
  assert.equal(seqs(got('a')), [6], 'the other direction still works')
  const iso = net.isolate('c')
  send('a', 'c', 7)
  send('c', 'b', 8)
  await world.runFor(20)
  assert.equal(seqs(got('c')), [4])
  net.restore(oneWay)
  net.restore(iso)
  assert.not.ok(net.isBlocked('a', 'b') || net.isBlocked('c', 'b'))
  net.partition('a', 'b')
  net.partition('a', 'b')
  net.heal()
  send('a', 'b', 9)
  await world.runFor(20)
  assert.equal(seqs(got('b')), [9])
})

test('a link drops frames beyond its bytes in flight, and serialises at its bandwidth', async () => {
  const { world, send, got } = await bareWorld(['a', 'b'], { latencyMs: { min: 10, max: 10 }, maxBytesInFlight: 3500 })
  for (let n = 0; n < 10; n++) send('a', 'b', n, 1000)
  assert.is(world.network.bytesInFlight('a', 'b'), 3000)
  await world.runFor(20)
  assert.is(got('b').length, 3)
  assert.is(world.network.bytesInFlight('a', 'b'), 0)
  world.network.setLink('a', 'b', { bandwidthBytesPerMs: 100, maxBytesInFlight: 1e9 })
  const start = world.now
  for (let n = 0; n < 10; n++) send('a', 'b', n, 1000)
  await world.runFor(200)
  const times = got('b').slice(3).map((a) => a.at - start)
  assert.equal(times, [20, 30, 40, 50, 60, 70, 80, 90, 100, 110], '10 ms to serialise each, then 10 ms latency')
  world.network.clearLink('a', 'b')
  assert.is(world.network.link('a', 'b').bandwidthBytesPerMs, Infinity)
})

test('oversized frames throw MESSAGE_TOO_LARGE; a stop tells the peers, a crash does not', async () => {
  const { world, nodes, send } = await bareWorld(['a', 'b', 'c'], {})
  world.network.maxFrameBytes = 100
  assert.throws(() => send('a', 'b', 0, 101), (e: any) => e.code === 'MESSAGE_TOO_LARGE')
  await nodes[0]!.app.env.transport.stop()
  world.crash('c')
  await world.runFor(10)
  assert.equal(nodes[1]!.app.disconnected, ['a'])
})

test('the same seed makes the same network choices', async () => {
  async function arrivals(seed: number) {
    const { world, send, got } = await bareWorld(['a', 'b'], { latencyMs: { min: 1, max: 30 }, dropProbability: 0.1, duplicateProbability: 0.1, reorderProbability: 0.2 }, seed)
    for (let n = 0; n < 300; n++) {
      send('a', 'b', n)
      await world.runFor(0.25)
    }
    await world.runFor(100)
    return JSON.stringify(got('b'))
  }
  const first = await arrivals(9)
  assert.is(await arrivals(9), first)
  assert.is.not(await arrivals(10), first)
})

test.run()
