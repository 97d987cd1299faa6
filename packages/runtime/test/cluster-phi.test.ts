import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ManualClock } from '@troupe/runtime'
import { PhiAccrualDetector, phi } from '../src/cluster/phi-accrual.js'
import { DetectorRegistry } from '../src/cluster/detector-registry.js'
import { LoopLag } from '../src/cluster/loop-lag.js'

const close = (actual: number, expected: number, tolerance: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what} expected ${expected} ± ${tolerance}, got ${actual}`)

const Phi = suite('phi accrual')

Phi('phi of the normal approximation matches the published values (Akka spec: mean 1000, sd 100)', () => {
  const table: [number, number][] = [
    [0, 0.0],
    [500, 0.1],
    [1000, 0.3],
    [1200, 1.6],
    [1400, 4.7],
    [1600, 10.8],
    [1700, 15.3],
  ]
  for (const [elapsed, expected] of table) close(phi(elapsed, 1000, 100), expected, 0.1, `phi(${elapsed})`)
})

Phi('phi grows with elapsed time and is 0 before any heartbeat', () => {
  const d = new PhiAccrualDetector({ acceptableHeartbeatPauseMs: 0, minStdDeviationMs: 10 })
  assert.is(d.phi(123), 0)
  assert.ok(d.isAvailable(1e9))
  d.heartbeat(0)
  let last = -1
  for (let t = 0; t <= 5000; t += 100) {
    const p = d.phi(t)
    assert.ok(p >= last, `phi must not decrease: ${p} after ${last} at ${t}`)
    last = p
  }
})

Phi('one heartbeat: judged from the first-heartbeat estimate (Akka: 0.3, 4.5, >15)', () => {
  const d = new PhiAccrualDetector({ acceptableHeartbeatPauseMs: 0, minStdDeviationMs: 10, firstHeartbeatEstimateMs: 1000 })
  d.heartbeat(0)
  close(d.phi(1000), 0.3, 0.2)
  close(d.phi(2000), 4.5, 0.3)
  assert.ok(d.phi(3000) > 15)
})

Phi('regular heartbeats keep a node available; silence makes it unavailable', () => {
  const d = new PhiAccrualDetector({ threshold: 8, acceptableHeartbeatPauseMs: 3000, minStdDeviationMs: 100, firstHeartbeatEstimateMs: 1000 })
  for (let t = 0; t <= 20_000; t += 1000) {
    d.heartbeat(t)
    assert.ok(d.isAvailable(t + 999))
  }
  assert.ok(d.isAvailable(20_000 + 3000), 'within the acceptable pause')
  assert.not.ok(d.isAvailable(20_000 + 6000), 'six seconds of silence at 1 s intervals')
})

Phi('acceptable heartbeat pause shifts the curve by exactly that amount', () => {
  const a = new PhiAccrualDetector({ acceptableHeartbeatPauseMs: 0 })
  const b = new PhiAccrualDetector({ acceptableHeartbeatPauseMs: 2500 })
  for (let t = 0; t <= 10_000; t += 1000) {
    a.heartbeat(t)
    b.heartbeat(t)
  }
  for (const dt of [500, 1000, 1500, 2000]) close(b.phi(10_000 + 2500 + dt), a.phi(10_000 + dt), 1e-9)
})

Phi('minimum standard deviation bounds phi for a perfectly regular stream', () => {
  const d = new PhiAccrualDetector({ acceptableHeartbeatPauseMs: 0, minStdDeviationMs: 100, maxSampleSize: 10 })
  for (let t = 0; t <= 20_000; t += 1000) d.heartbeat(t)
  // All 10 samples are exactly 1000: sd 0, so the floor applies: phi(1200; 1000, 100) = 1.6.
  close(d.phi(20_000 + 1200), 1.6, 0.1)
})

Phi('the sample window forgets old intervals', () => {
  const d = new PhiAccrualDetector({ acceptableHeartbeatPauseMs: 0, maxSampleSize: 5, minStdDeviationMs: 10 })
  let t = 0
  for (let i = 0; i < 10; i++) d.heartbeat((t += 5000))
  for (let i = 0; i < 10; i++) d.heartbeat((t += 100))
  // Only 100 ms intervals remain: 1 s of silence is now very suspicious.
  assert.ok(d.phi(t + 1000) > 8)
})

Phi('expect() starts judging without adding a sample', () => {
  const d = new PhiAccrualDetector({ acceptableHeartbeatPauseMs: 0, minStdDeviationMs: 10 })
  d.expect(0)
  assert.ok(d.phi(3000) > 15, 'a node that never answers becomes suspect')
  const e = new PhiAccrualDetector({ acceptableHeartbeatPauseMs: 0, minStdDeviationMs: 10 })
  e.expect(0)
  e.heartbeat(5) // first answer right after: not a 5 ms interval sample
  close(e.phi(1005), 0.3, 0.05)
})

Phi('rejects nonsense options', () => {
  assert.throws(() => new PhiAccrualDetector({ threshold: 0 }), (e: any) => e.code === 'INVALID_ARGUMENT')
  assert.throws(() => new PhiAccrualDetector({ acceptableHeartbeatPauseMs: -1 }), (e: any) => e.code === 'INVALID_ARGUMENT')
})

Phi.run()

const Stall = suite('local stalls')

const detectorOptions = { threshold: 8, acceptableHeartbeatPauseMs: 300, minStdDeviationMs: 25, firstHeartbeatEstimateMs: 100 }

Stall('a stall of the local loop is not counted against peers (5x the acceptable pause)', () => {
  const clock = new ManualClock(0)
  const lag = new LoopLag(clock, { intervalMs: 50, stallThresholdMs: 100 })
  const registry = new DetectorRegistry(detectorOptions, lag)
  lag.start()
  registry.expect('b', 0)
  for (let t = 100; t <= 2000; t += 100) {
    clock.advance(100)
    registry.heartbeat('b', clock.now())
  }
  // The local loop freezes for 5 x 300 ms: no timer fires, no heartbeat is handled.
  // A ManualClock cannot freeze, so move its time without firing timers, as a blocked loop would.
  const frozenMs = 5 * 300
  ;(clock as unknown as { current: number }).current += frozenMs
  const now = clock.now()
  // The first thing after the stall is a liveness judgement (before the late probe fires).
  assert.ok(registry.isAvailable('b', now), `phi ${registry.phi('b', now)} after a local stall`)
  assert.is(lag.stalls, 1)
  assert.ok(lag.totalStallMs >= frozenMs - 100, `measured ${lag.totalStallMs} ms`)
  // Peers that then stay silent are still detected.
  clock.advance(1000)
  assert.not.ok(registry.isAvailable('b', clock.now()))
  lag.stop()
})

Stall('without the lag probe the same stall looks like a dead peer (the guarantee needs the probe)', () => {
  const clock = new ManualClock(0)
  const registry = new DetectorRegistry(detectorOptions, null)
  registry.expect('b', 0)
  for (let t = 100; t <= 2000; t += 100) {
    clock.advance(100)
    registry.heartbeat('b', clock.now())
  }
  ;(clock as unknown as { current: number }).current += 5 * 300
  assert.not.ok(registry.isAvailable('b', clock.now()))
})

Stall('timer lag below the threshold is measured but not discounted', () => {
  const clock = new ManualClock(0)
  const lag = new LoopLag(clock, { intervalMs: 50, stallThresholdMs: 100 })
  lag.start()
  clock.advance(50)
  lag.observe(clock.now() + 50 + 80) // the next probe, 80 ms late
  assert.is(lag.maxLagMs, 80)
  assert.is(lag.takeStallMs(clock.now() + 50 + 80), 0)
  assert.is(lag.stalls, 0)
  lag.stop()
  assert.is(clock.pendingTimers(), 0)
})

Stall.run()
