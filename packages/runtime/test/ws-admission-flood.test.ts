import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, defineActor } from '@troupe/runtime'
import { WebSocketTransport } from '../src/ws/index.js'
import { Flood } from './ws-flood.js'
import { LogSink, SECRET, eventually, startNode } from './ws-helpers.js'

const Echo = defineActor({ initial: () => null, handlers: { echo: (_s, x: number) => x } })
type EchoP = { echo(x: number): number }

const test = suite('ws admission under flood')

/** How long the legitimate node may take to serve its first ask (a liveness cap, not a timing claim). */
const LIVENESS_MS = 15_000
/** The node's heap may grow at most this much while flooded (sockets, timers, both ends in this process). */
const HEAP_BOUND_BYTES = 64 * 1024 * 1024

test('a node holding the secret joins and is served while strangers flood the port', async () => {
  const a = await startNode('a')
  a.system.spawn(Echo, { name: 'echo' })
  const port = a.transport.address()!.port
  const flood = new Flood({ port, maxRaw: 8000, maxSilent: 800, rawPerTick: 20, silentPerTick: 2 })
  let b: ActorSystem | null = null
  const heapBefore = process.memoryUsage().heapUsed
  let heapPeak = heapBefore
  let pendingPeak = 0
  const sampler = setInterval(() => {
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)
    pendingPeak = Math.max(pendingPeak, a.transport.stats().handshaking)
  }, 20)
  try {
    flood.start()
    // The flood holds the node's pending slots before the legitimate node starts.
    await eventually(() => flood.opened.raw >= 3000 && flood.opened.silent >= 300, 'flood under way', 20_000)
    const sink = new LogSink('b')
    const transport = new WebSocketTransport({ listen: null, localAddress: '127.0.0.10', peers: { a: a.url }, secret: SECRET, log: sink.log })
    b = new ActorSystem({ name: 'b', transport, askTimeoutMs: 1000 })
    const started = Date.now()
    await b.start()
    const echo = b.remoteRef<EchoP>('a', '/user/echo')
    let served = false
    let failures = 0
    while (!served && Date.now() - started < LIVENESS_MS) {
      try {
        served = (await echo.ask('echo', 7)) === 7
      } catch {
        failures++
      }
    }
    const during = !flood.exhausted
    const elapsed = Date.now() - started
    console.log(`    first ask after ${elapsed} ms (${failures} failed asks); flood opened ${flood.opened.raw} raw + ${flood.opened.silent} silent, node dropped ${flood.droppedByNode}, holding ${flood.holding}; heap +${((heapPeak - heapBefore) / 2 ** 20).toFixed(1)} MiB, pending peak ${pendingPeak}`)
    assert.ok(served, `no successful ask within ${LIVENESS_MS} ms of joining (${failures} failed)`)
    assert.ok(during, 'the ask succeeded while the flood was still opening connections')
    assert.ok(heapPeak - heapBefore < HEAP_BOUND_BYTES, `heap grew ${heapPeak - heapBefore} bytes`)
    assert.ok(pendingPeak <= 256, `at most maxPendingHandshakes (256) pending at once, saw ${pendingPeak}`)
    assert.ok(a.sink.count((e) => e.event === 'connection-evicted') <= 32, 'evictions are logged sparingly')
  } finally {
    clearInterval(sampler)
    await flood.stop()
    await b?.terminate()
    await a.stop()
  }
  await eventually(() => a.transport.stats().handshaking === 0, 'no pending socket left')
})

test.run()
