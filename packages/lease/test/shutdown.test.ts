import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { isLeaseError } from '../src/index.js'
import { setup } from './client-setup.js'
import { runFor, waitFor } from './fake-group.js'

const TTL_MS = 60_000

for (const how of ['releaseAll', 'close'] as const) {
  test(`${how}(): every lease held through the client is released, so a waiter on another client gets it at once (not after the TTL), and keep-alives stop`, async () => {
    const { clock, group, client } = setup()
    const [a, b] = [client(), client()]
    const held = await Promise.all(['job', 'primary', 'cron'].map((name) => waitFor(clock, a.acquire(name, { ttlMs: TTL_MS }))))
    await runFor(clock, TTL_MS / 2)
    const renewalsBefore = a.stats.renewCommands
    assert.ok(renewalsBefore > 0, 'leases are kept alive while held')
    const waiting = b.acquire('job', { ttlMs: TTL_MS, waitMs: TTL_MS * 2 })
    await runFor(clock, 50)
    const startMs = clock.now()
    await waitFor(clock, a[how]())
    for (const lease of held) {
      assert.ok(lease.signal.aborted, `${lease.name} signalled`)
      assert.ok(isLeaseError(lease.signal.reason, 'LEASE_RELEASED'), String(lease.signal.reason))
    }
    for (const name of ['primary', 'cron']) assert.equal(group.table.info(name).holders, [], `${name} free on the group`)
    const got = await waitFor(clock, waiting)
    assert.ok(clock.now() - startMs < TTL_MS / 10, `b got the lease ${clock.now() - startMs} ms after the release (TTL ${TTL_MS} ms)`)
    assert.is(got.name, 'job')
    assert.equal(a.held(), [])
    await runFor(clock, TTL_MS)
    assert.is(a.stats.renewCommands, renewalsBefore, 'no keep-alive after the release')
    assert.ok(got.held, 'the new holder keeps it')
    if (how === 'releaseAll') {
      // The client is still usable.
      const again = await waitFor(clock, a.acquire('other', { ttlMs: TTL_MS }))
      assert.ok(again.held)
    } else {
      const err = await waitFor(clock, a.acquire('other')).catch((e) => e)
      assert.ok(isLeaseError(err, 'CLOSED'), String(err))
    }
    await waitFor(clock, a.close())
    await waitFor(clock, b.close())
  })
}

test.run()
