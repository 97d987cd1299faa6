import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, defineActor } from '@troupe/runtime'
import type { Clock } from '@troupe/runtime'
import { SimWorld } from '../src/sim/sim-world.js'
import type { NodeEnv } from '../src/sim/sim-node.js'

const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b))

/** A node that keeps its env around and records what it receives. */
function bareNode(world: SimWorld, name: string, options?: Parameters<SimWorld['addNode']>[2]) {
  return world.addNode(
    name,
    async (env: NodeEnv) => {
      const got: string[] = []
      await env.transport.start(name, { receive: (from, frame) => got.push(`${world.now}:${from}:${text(frame)}`) })
      return { env, got }
    },
    options,
  )
}

async function rejectsWithCode(p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p
  } catch (err) {
    assert.is((err as { code?: string }).code, code, String(err))
    return
  }
  assert.unreachable(`expected ${code}`)
}

test('time moves only when the world runs; timers fire exactly at their due time', async () => {
  const world = new SimWorld({ seed: 1 })
  const a = bareNode(world, 'a')
  await world.waitUntilUp(10)
  const fired: number[] = []
  a.app.env.clock.setTimer(100, () => fired.push(world.now))
  await new Promise((r) => setTimeout(r, 20))
  assert.equal(fired, [], 'real time passing does not fire virtual timers')
  await world.runFor(99.5)
  assert.equal(fired, [])
  assert.is(a.app.env.clock.now(), 99.5)
  await world.runFor(0.5)
  assert.equal(fired, [100])
  assert.is(world.now, 100)
})

test('timers of all nodes share one queue: by time, then by the order they were set', async () => {
  const world = new SimWorld({ seed: 1 })
  const a = bareNode(world, 'a')
  const b = bareNode(world, 'b')
  await world.waitUntilUp(10)
  const order: string[] = []
  const at = (clock: Clock, ms: number, tag: string) => clock.setTimer(ms, () => order.push(tag))
  at(a.app.env.clock, 30, 'a30')
  at(b.app.env.clock, 10, 'b10')
  at(a.app.env.clock, 10, 'a10')
  const cancelled = at(b.app.env.clock, 20, 'b20')
  at(b.app.env.clock, 30, 'b30')
  at(a.app.env.clock, 0, 'a0')
  b.app.env.clock.clearTimer(cancelled)
  await world.runFor(50)
  assert.equal(order, ['a0', 'b10', 'a10', 'a30', 'b30'])
})

test("dispatchers' yielded turns run inside the world before the next event", async () => {
  const world = new SimWorld({ seed: 1 })
  let handled = 0
  const Sink = defineActor({ initial: () => null, handlers: { hit: () => void handled++ } })
  const yields: number[] = []
  const n = world.addNode('n', async (env) => {
    // A budget of 10 messages per turn forces the dispatcher to yield often.
    const yieldTurn = (fn: () => void) => {
      yields.push(world.now)
      env.system.yieldTurn!(fn)
    }
    return { system: new ActorSystem({ ...env.system, yieldTurn, turnBudget: 10, throughput: 1 }) }
  })
  await world.waitUntilUp(10)
  const sink = n.system.spawn(Sink)
  for (let i = 0; i < 500; i++) sink.tell('hit')
  await world.runFor(0)
  assert.is(handled, 500)
  assert.ok(yields.length >= 40, `the dispatcher yielded (${yields.length} times)`)
  assert.ok(yields.every((t) => t === 0), 'no virtual time passed')
  assert.ok(n.system.idle)
})

test('crash drops timers and in-flight frames, loses unsynced disk writes; restart boots again on the same disk', async () => {
  const world = new SimWorld({ seed: 2, network: { latencyMs: { min: 10, max: 10 } } })
  const a = bareNode(world, 'a')
  const b = bareNode(world, 'b')
  await world.waitUntilUp(10)
  const old = b.app.env
  await old.disk.write('kept', bytes('synced'))
  await old.disk.sync('kept')
  await old.disk.syncDir('')
  await old.disk.write('lost', bytes('not synced'))
  let timerFired = false
  old.clock.setTimer(5, () => (timerFired = true))
  a.app.env.transport.send('b', bytes('in flight'))
  await world.runFor(1)
  world.crash('b')
  assert.is(b.state, 'down')
  await world.runFor(50)
  assert.not.ok(timerFired, "the crashed node's timer never fires")
  world.restart('b')
  await world.waitUntilUp(10)
  assert.is(b.incarnation, 2)
  assert.equal(b.app.got, [], 'the frame in flight to the crashed node was dropped')
  assert.is(text(await b.app.env.disk.read('kept')), 'synced')
  assert.is(await b.app.env.disk.read('lost'), null)

  // The old incarnation is inert: its timers, sends and disk calls do nothing.
  let zombieTimer = false
  old.clock.setTimer(1, () => (zombieTimer = true))
  old.transport.send('a', bytes('from the grave'))
  let zombieWrite = 'pending'
  old.disk.write('kept', bytes('zombie')).then(() => (zombieWrite = 'done'))
  a.app.env.transport.send('b', bytes('hello again'))
  await world.runFor(50)
  assert.not.ok(zombieTimer)
  assert.equal(a.app.got, [])
  assert.is(zombieWrite, 'pending')
  assert.is(text(await b.app.env.disk.read('kept')), 'synced')
  assert.equal(b.app.got, ['61:a:hello again'], 'the restarted node receives again')
})

test('a pause holds timers and deliveries until it ends, then runs them in their original order', async () => {
  const world = new SimWorld({ seed: 3, network: { latencyMs: { min: 5, max: 5 } } })
  const a = bareNode(world, 'a')
  const b = bareNode(world, 'b')
  await world.waitUntilUp(10)
  const log: string[] = []
  b.app.env.clock.setTimer(100, () => log.push(`b-timer@${world.now} after ${b.app.got.length} frame`))
  a.app.env.clock.setTimer(100, () => log.push(`a-timer@${world.now}`))
  world.pause('b', 500)
  assert.ok(b.paused)
  a.app.env.transport.send('b', bytes('x'))
  b.app.env.clock.setTimer(600, () => log.push(`b-late@${world.now}`))
  await world.runFor(499)
  assert.equal(log, ['a-timer@100'])
  assert.equal(b.app.got, [])
  await world.runFor(200)
  assert.equal(log, ['a-timer@100', 'b-timer@500 after 1 frame', 'b-late@600'], 'the frame (due at 5) ran before the timer due at 100')
  assert.equal(b.app.got, ['500:a:x'], 'the frame waited for the pause')
})

test('clock skew and drift: what the node reads, and when its timers fire', async () => {
  const world = new SimWorld({ seed: 4 })
  const n = bareNode(world, 'n', { clockSkewMs: 1000, clockRate: 2 })
  await world.waitUntilUp(10)
  const clock = n.app.env.clock
  assert.is(clock.now(), 1000)
  let firedAt = -1
  clock.setTimer(100, () => (firedAt = world.now))
  await world.runFor(40)
  assert.is(clock.now(), 1080)
  world.setClock('n', { rate: 1 })
  await world.runFor(100)
  assert.is(firedAt, 60, 'the pending timer followed the rate change: 80 local ms at x2, then 20 at x1')
  assert.ok(clock.now() >= 1100)
  const before = clock.now()
  world.setClock('n', { skewMs: 0 })
  assert.is(clock.now(), before, 'a step back freezes the clock: it stays monotonic')
  await world.runFor(1200)
  assert.is(clock.now(), world.now)
})

test('waitFor returns the outcome, or fails with SIM_TIMEOUT after maxMs of virtual time', async () => {
  const world = new SimWorld({ seed: 5 })
  const n = bareNode(world, 'n')
  await world.waitUntilUp(10)
  const later = new Promise<string>((resolve) => n.app.env.clock.setTimer(300, () => resolve('done')))
  assert.is(await world.waitFor(later, 1000), 'done')
  assert.is(world.now, 300)
  await rejectsWithCode(world.waitFor(new Promise(() => {}), 250), 'SIM_TIMEOUT')
  assert.is(world.now, 550)
})

test('a failing boot and a zero-delay timer loop are reported, not hung on', async () => {
  const world = new SimWorld({ seed: 6, maxStepsPerInstant: 1000 })
  world.addNode('bad', () => {
    throw new Error('no config')
  })
  await rejectsWithCode(world.runFor(10), 'BOOT_FAILED')
  const loop = bareNode(world, 'loop')
  await world.waitUntilUp(10).catch(() => {})
  await world.runUntil(() => loop.up, 10)
  const spin = () => loop.app.env.clock.setTimer(0, spin)
  spin()
  await rejectsWithCode(world.runFor(10), 'SIM_LIVELOCK')
})

test('the trace hash follows the seed and the content of frames', async () => {
  async function run(seed: number, payload: string): Promise<string> {
    const world = new SimWorld({ seed, network: { latencyMs: { min: 1, max: 50 } } })
    const nodes = ['a', 'b', 'c'].map((n) => bareNode(world, n))
    await world.waitUntilUp(10)
    for (let i = 0; i < 20; i++) for (const n of nodes) n.app.env.transport.send(n.app.env.prng.pick(['a', 'b', 'c']), bytes(`${payload}${i}`))
    await world.runFor(100)
    return world.traceHash
  }
  const h1 = await run(1, 'm')
  assert.is(await run(1, 'm'), h1)
  assert.is.not(await run(2, 'm'), h1)
  assert.is.not(await run(1, 'M'), h1)
})

test('run* is not reentrant and time cannot go back', async () => {
  const world = new SimWorld({ seed: 7 })
  const first = world.runFor(10)
  try {
    await world.runFor(10)
    assert.unreachable('a second concurrent run must fail')
  } catch (err) {
    assert.match(String(err), /not reentrant/)
  }
  await first
  try {
    await world.run(5)
    assert.unreachable('running to the past must fail')
  } catch (err) {
    assert.instance(err, RangeError)
  }
})

test.run()
