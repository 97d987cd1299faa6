// The bootstrap driver on a manual clock: one probe in flight per contact,
// hanging probes time out, a failing discovery is warned about once and
// asked again, and nothing stays scheduled once it decides or is aborted.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ManualClock } from '@troupe/runtime'
import { runBootstrap } from '../src/discovery/bootstrap-driver.js'
import type { ProbeFn } from '../src/discovery/bootstrap-driver.js'
import { resolveTunables } from '../src/discovery/bootstrap-tunables.js'
import type { Contact } from '../src/discovery/contact.js'
import { DiscoveryError, isDiscoveryError } from '../src/discovery/discovery-error.js'
import type { Discovery } from '../src/discovery/discovery-method.js'

const flush = () => new Promise((r) => setImmediate(r))
async function advance(clock: ManualClock, ms: number, step = 100): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step)
    await flush()
  }
}

function setup(lookup: () => Promise<Contact[]>, probe: ProbeFn) {
  const clock = new ManualClock(0)
  const logs: string[] = []
  const controller = new AbortController()
  const discovery: Discovery = { backend: 'test', lookup }
  const decided = runBootstrap({
    self: { node: 'a', address: 'ws://a' },
    discovery,
    probe,
    clock,
    timers: { setTimeout: (fn, ms) => clock.setTimer(ms, fn), clearTimeout: (h) => clock.clearTimer(h as never) },
    log: (level, msg) => logs.push(`${level} ${msg}`),
    tunables: resolveTunables(),
    signal: controller.signal,
  })
  return { clock, logs, controller, decided }
}

const A = { host: '10.0.0.1', port: 1 }
const B = { host: '10.0.0.2', port: 1 }

test('a hanging probe stays the only one in flight to its contact until it times out; the decision clears every timer', async () => {
  const sent: string[] = []
  const { clock, decided } = setup(
    async () => [A, B],
    (c) => {
      sent.push(c.host)
      if (c.host === B.host) return new Promise(() => {}) // hangs
      return Promise.resolve({ node: 'a', address: 'ws://a', members: [] })
    },
  )
  await advance(clock, 2500)
  // Probed at the first answer, then at each 1 s round; B's probe of the first answer hangs until 1.1 s, so the 1 s round skips it.
  assert.is(sent.filter((h) => h === B.host).length, 2, sent.join(','))
  assert.is(sent.filter((h) => h === A.host).length, 3, sent.join(','))
  await advance(clock, 10_000)
  let settled = false
  void decided.then(() => (settled = true))
  await flush()
  assert.not.ok(settled, 'no fresh answer from B: nobody forms')
  assert.ok(clock.pendingTimers() > 0)
})

test('a failing discovery is warned about once, asked again every interval, and the decision leaves no timer behind', async () => {
  let fail = true
  let asked = 0
  const { clock, logs, decided } = setup(
    async () => {
      asked++
      if (fail) throw new DiscoveryError('DISCOVERY_FAILED', 'test', 'down')
      return [A, B]
    },
    async (c) => (c.host === A.host ? { node: 'a', address: 'ws://a', members: [] } : { node: 'b', address: 'ws://b', members: [] }),
  )
  await advance(clock, 5000)
  assert.ok(asked >= 5)
  assert.is(logs.filter((l) => l.startsWith('warn')).length, 1)
  fail = false
  await advance(clock, 7000)
  assert.equal(await decided, { kind: 'form', contacts: ['10.0.0.1:1', '10.0.0.2:1'] })
  assert.ok(logs.includes('info discovery answers again'))
  assert.is(clock.pendingTimers(), 0)
})

test('abort rejects with BOOTSTRAP_ABORTED and clears every timer', async () => {
  const { clock, controller, decided } = setup(async () => [A], () => new Promise(() => {}))
  await advance(clock, 1500)
  controller.abort()
  try {
    await decided
    assert.unreachable()
  } catch (err) {
    assert.ok(isDiscoveryError(err, 'BOOTSTRAP_ABORTED'))
  }
  assert.is(clock.pendingTimers(), 0)
})

test.run()
