// The Leases façade: withLease, elections on top of it, close.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { isLeaseError } from '../src/lease-error.js'
import { runFor, waitFor } from './fake-group.js'
import { setup } from './client-setup.js'

test('withLease passes token and signal, and releases after, also when fn throws', async () => {
  const { clock, group, leases } = setup()
  const seen = await waitFor(clock, leases.withLease('job', async (token, signal) => ({ token, aborted: signal.aborted }), { ttlMs: 1000 }))
  assert.equal(seen, { token: 1, aborted: false })
  assert.equal(group.table.info('job').holders, [])
  const err = await waitFor(clock, leases.withLease('job', () => Promise.reject(new Error('boom')), { ttlMs: 1000 })).catch((e) => e)
  assert.is((err as Error).message, 'boom')
  await runFor(clock, 10)
  assert.equal(group.table.info('job').holders, [])
})

test('elections: campaign, leader, observe, resign', async () => {
  const { clock, client } = setup()
  const [a, b, o] = [client(), client(), client()]
  const ctl = new AbortController()
  const seen: Array<string | null> = []
  const observing = (async () => {
    for await (const leader of o.observe('primary', { signal: ctl.signal, pollMs: 50 })) seen.push(leader?.value ?? null)
  })()
  await runFor(clock, 60)
  const la = await waitFor(clock, a.campaign('primary', 'node-a', { ttlMs: 1000 }))
  const pb = b.campaign('primary', 'node-b', { ttlMs: 1000 })
  await runFor(clock, 100)
  assert.equal(await waitFor(clock, o.leader('primary')), { value: 'node-a', token: la.token, clientId: a.clientId })
  await waitFor(clock, a.resign(la))
  const lb = await waitFor(clock, pb)
  assert.is(lb.value, 'node-b')
  await runFor(clock, 100)
  ctl.abort()
  await waitFor(clock, observing)
  assert.equal(seen, [null, 'node-a', 'node-b'])
})

test('close releases held leases and fails pending acquires with CLOSED', async () => {
  const { clock, group, client } = setup()
  const [a, b] = [client(), client()]
  const la = await waitFor(clock, a.acquire('job', { ttlMs: 1000 }))
  const pb = b.acquire('job', { ttlMs: 1000 })
  pb.catch(() => {}) // it rejects while we wait for close
  await runFor(clock, 20)
  await waitFor(clock, b.close())
  const err = await waitFor(clock, pb).catch((e) => e)
  assert.ok(isLeaseError(err, 'CLOSED'), String(err))
  await waitFor(clock, a.close())
  assert.ok(la.signal.aborted)
  await runFor(clock, 50)
  assert.equal(group.table.info('job').holders, [])
  assert.is(group.table.info('job').waiters, 0)
})

test.run()
