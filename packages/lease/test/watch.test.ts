// Pushed watches on the client: what is yielded, what it costs, a quiet member.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runFor, waitFor } from './fake-group.js'
import { setup } from './client-setup.js'
import { WatchStream } from '../src/client/watch-stream.js'
import type { NameInfo } from '../src/core/commands.js'

test('watch yields the holders now and on every change', async () => {
  const { clock, client } = setup()
  const [a, b, w] = [client(), client(), client()]
  const ctl = new AbortController()
  const seen: string[] = []
  const watching = (async () => {
    for await (const info of w.watch('job', { signal: ctl.signal, pollMs: 50 })) seen.push(info.holders.map((h) => h.clientId).join(',') || '-')
  })()
  await runFor(clock, 100)
  const la = await waitFor(clock, a.acquire('job', { ttlMs: 1000 }))
  await runFor(clock, 100)
  const pb = b.acquire('job', { ttlMs: 1000 })
  await runFor(clock, 100)
  await waitFor(clock, la.release())
  await waitFor(clock, pb)
  await runFor(clock, 100)
  ctl.abort()
  await waitFor(clock, watching)
  assert.equal(seen, ['-', a.clientId, b.clientId])
})

test('watch is pushed: an idle watch costs no reads, and each change arrives without one', async () => {
  const { clock, group, client } = setup()
  const [a, w] = [client(), client()]
  const ctl = new AbortController()
  const seen: NameInfo[] = []
  const watching = (async () => {
    for await (const info of w.watch('job', { signal: ctl.signal })) seen.push(info)
  })()
  await runFor(clock, 100)
  assert.is(seen.length, 1, 'the state now')
  const readsAfterStart = group.reads
  await runFor(clock, 10_000) // idle for 40 of the old poll intervals
  assert.is(group.reads, readsAfterStart, 'no reads while idle')
  for (let i = 0; i < 5; i++) {
    const lease = await waitFor(clock, a.acquire('job', { ttlMs: 1000 }))
    await runFor(clock, 50)
    assert.equal(seen.at(-1)?.holders.map((h) => h.token), [lease.token], 'the grant was pushed')
    await waitFor(clock, lease.release())
    await runFor(clock, 50)
    assert.equal(seen.at(-1)?.holders, [], 'the release was pushed')
  }
  assert.is(group.reads, readsAfterStart, 'changes came without reads')
  assert.is(seen.length, 11)
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.revision > seen[i - 1]!.revision, 'revisions grow, also once the name is idle and forgotten')
  assert.is(w.stats.watchEvents, 10)
  ctl.abort()
  await waitFor(clock, watching)
  assert.is(group.service.stats.watchers, 1, 'still registered until the next beat')
  await runFor(clock, 2000)
  assert.is(group.service.stats.watchers, 0, 'the beat\'s answer dropped it')
})

test('a member that goes quiet: the watch reads again after watchTimeoutMs and converges', async () => {
  const { clock, group, client } = setup()
  const [a, w] = [client(), client({ watchTimeoutMs: 1000, watchPollMs: 100 })]
  const ctl = new AbortController()
  const seen: NameInfo[] = []
  const watching = (async () => {
    for await (const info of w.watch('job', { signal: ctl.signal })) seen.push(info)
  })()
  await runFor(clock, 100)
  await group.service.stop() // no more pushes or beats; registrations are refused
  const lease = await waitFor(clock, a.acquire('job', { ttlMs: 5000 }))
  await runFor(clock, 200)
  assert.equal(seen.at(-1)?.holders, [], 'not pushed: the member is quiet')
  await runFor(clock, 1500)
  assert.equal(seen.at(-1)?.holders.map((h) => h.token), [lease.token], 'found by a read after the timeout')
  const reads = group.reads
  await waitFor(clock, lease.release())
  await runFor(clock, 300)
  assert.equal(seen.at(-1)?.holders, [], 'refused registrations fall back to polling')
  assert.ok(group.reads > reads)
  ctl.abort()
  await waitFor(clock, watching)
})

test('a watch stream never yields a state older than one it yielded, nor the same holders twice', async () => {
  const info = (revision: number, token: number): NameInfo => ({
    name: 'job', holders: token > 0 ? [{ clientId: 'c', requestId: token, mode: 'exclusive', token, value: null }] : [], waiters: 0, revision, lastToken: token,
  })
  const stream = new WatchStream('job')
  for (const i of [info(10, 10), info(5, 5), info(10, 10), info(12, 0), info(15, 0), info(11, 11), info(20, 20)]) stream.offer(i)
  stream.close()
  const out: number[] = []
  for (let i = await stream.next(); i !== null; i = await stream.next()) out.push(i.revision)
  assert.equal(out, [10, 12, 20])
})

test.run()
