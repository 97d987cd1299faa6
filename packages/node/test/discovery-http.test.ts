// The bootstrap route and the HTTP probe over loopback: a probe signed with
// the cluster secret gets the node's signed answer; a wrong secret, no
// signature, a stale time or another method get nothing; an answer that is
// not signed (a stranger at a discovered address) or malformed is refused.
// Then three nodes bootstrap each other over real HTTP with the contact list.
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { realClock } from '@troupe/runtime'
import { HEADER_MAC, HEADER_NONCE, HEADER_TIME, requestMac } from '../src/discovery/bootstrap-auth.js'
import { bootstrapRoute } from '../src/discovery/bootstrap-route.js'
import { bootstrapSeeds } from '../src/discovery/bootstrap-seeds.js'
import { isDiscoveryError } from '../src/discovery/discovery-error.js'
import { httpProbe } from '../src/discovery/http-probe.js'
import type { ProbeAnswer } from '../src/discovery/probe-answer.js'

const servers: Server[] = []
async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  const server = createServer(handler)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}
test.after(async () => {
  for (const s of servers) {
    s.closeAllConnections()
    await new Promise((resolve) => s.close(resolve))
  }
})

const answer: ProbeAnswer = { node: 'n1', address: 'ws://127.0.0.1:7001', members: [{ node: 'n1', address: 'ws://127.0.0.1:7001' }] }
const contact = (port: number) => ({ host: '127.0.0.1', port })
const signal = () => new AbortController().signal

async function probeFails(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p
    assert.unreachable('the probe should fail')
  } catch (err) {
    assert.ok(isDiscoveryError(err, 'PROBE_FAILED'), String(err))
    assert.match((err as Error).message, pattern)
  }
}

async function rawGet(port: number, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/bootstrap`, { method, headers })
  return { status: res.status, body: await res.text() }
}

test('a probe signed with the secret gets the signed answer; a wrong secret gets 401', async () => {
  const port = await listen(bootstrapRoute({ secret: 'right', state: () => answer }))
  assert.equal(await httpProbe('right', realClock)(contact(port), signal()), answer)
  await probeFails(httpProbe('wrong', realClock)(contact(port), signal()), /answered 401 \(a different cluster secret\?\)/)
})

test('no signature, a bad nonce, a stale or future time, another method: refused without information', async () => {
  const refused: string[] = []
  const clock = { now: () => 1_000_000 }
  const port = await listen(bootstrapRoute({ secret: 'k', state: () => answer, clock, log: (_l, _m, f) => refused.push((f as { reason: string }).reason) }))
  const nonce = 'ab'.repeat(16)
  const signed = (time: number, n = nonce) => ({ [HEADER_TIME]: String(time), [HEADER_NONCE]: n, [HEADER_MAC]: requestMac('k', time, n) })
  assert.is((await rawGet(port, signed(1_000_000))).status, 200)
  for (const headers of [{}, { ...signed(1_000_000), [HEADER_MAC]: '00'.repeat(32) }, signed(1_000_000, 'short'), signed(1_000_000 - 301_000), signed(1_000_000 + 301_000)]) {
    const r = await rawGet(port, headers)
    assert.equal(r, { status: 401, body: 'unauthorized\n' })
  }
  assert.equal(refused, ['missing or malformed time', 'bad mac', 'missing or malformed nonce', 'time outside the allowed skew', 'time outside the allowed skew'])
  assert.is((await rawGet(port, signed(1_000_000), 'POST')).status, 405)
})

test('an answer that is not signed with the secret, or is malformed, or too large, is refused', async () => {
  const stranger = await listen((_req, res) => res.end(JSON.stringify(answer)))
  await probeFails(httpProbe('k', realClock)(contact(stranger), signal()), /not signed with the cluster secret/)
  const malformed = await listen(bootstrapRoute({ secret: 'k', state: () => ({ node: 'n1', address: '', members: [] }) }))
  await probeFails(httpProbe('k', realClock)(contact(malformed), signal()), /malformed probe answer/)
  const huge = await listen((_req, res) => res.end('x'.repeat(2 * 1024 * 1024)))
  await probeFails(httpProbe('k', realClock)(contact(huge), signal()), /larger than/)
  const broken = await listen(bootstrapRoute({ secret: 'k', state: () => { throw new Error('not started') } }))
  await probeFails(httpProbe('k', realClock)(contact(broken), signal()), /answered 503/)
  await probeFails(httpProbe('k', realClock)(contact(1), signal()), /ECONNREFUSED/)
})

test('three nodes bootstrap each other over HTTP: the lowest address forms, the others join it', async () => {
  const nodes = ['n1', 'n2', 'n3'].map((node, i) => ({ node, address: `ws://127.0.0.1:${7003 - i}`, members: [] as ProbeAnswer['members'] }))
  const ports = await Promise.all(nodes.map((n) => listen(bootstrapRoute({ secret: 's', state: () => ({ node: n.node, address: n.address, members: n.members }) }))))
  const contacts = ports.map((p) => `127.0.0.1:${p}`)
  const results = await Promise.all(
    nodes.map(async (n) => {
      const seeds = await bootstrapSeeds({
        self: { node: n.node, address: n.address },
        discovery: { method: 'contacts', contacts },
        secret: 's',
        clock: realClock,
        timers: { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
        log: () => {},
        state: () => ({ node: n.node, address: n.address, members: n.members }),
        lookupIntervalMs: 20,
        probeIntervalMs: 20,
        probeTimeoutMs: 200,
        probeFreshMs: 250,
        stableMarginMs: 300,
      })
      // What starting the Cluster does: the former is a member at once; a joiner once welcomed.
      n.members = seeds.length === 1 && seeds[0]!.node === n.node ? [{ node: n.node, address: n.address }] : [...seeds, { node: n.node, address: n.address }]
      return seeds
    }),
  )
  // n3 has the lowest address (ws://127.0.0.1:7001).
  assert.equal(results[2], [{ node: 'n3', address: 'ws://127.0.0.1:7001' }])
  // A joiner joins n3's cluster through the members it learned: n3 alone,
  // or n3 and the other joiner when that one had joined by the time of the
  // probe (a slow machine makes either order happen).
  for (const [i, other] of [[0, 'n2'], [1, 'n1']] as const) {
    assert.equal(results[i]![0], { node: 'n3', address: 'ws://127.0.0.1:7001' }, `${nodes[i]!.node} joins n3`)
    assert.ok(results[i]!.every((s) => s.node === 'n3' || s.node === other), `${nodes[i]!.node}'s seeds are n3's cluster: ${JSON.stringify(results[i])}`)
  }
})

test('bootstrap rejects BOOTSTRAP_ABORTED when its signal aborts, and a missing secret is a config error', async () => {
  const controller = new AbortController()
  const input = {
    self: { node: 'a', address: 'ws://a' },
    discovery: { method: 'contacts' as const, contacts: ['127.0.0.1:1'] },
    secret: 's',
    clock: realClock,
    timers: { setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) },
    log: () => {},
    state: () => ({ node: 'a', address: 'ws://a', members: [] }),
  }
  const pending = bootstrapSeeds({ ...input, signal: controller.signal })
  setTimeout(() => controller.abort(), 50)
  try {
    await pending
    assert.unreachable()
  } catch (err) {
    assert.ok(isDiscoveryError(err, 'BOOTSTRAP_ABORTED'), String(err))
  }
  try {
    await bootstrapSeeds({ ...input, secret: '' })
    assert.unreachable()
  } catch (err) {
    assert.ok(isDiscoveryError(err, 'INVALID_DISCOVERY_CONFIG'), String(err))
  }
})

test.run()
