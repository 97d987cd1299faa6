// Ask round trips/s and p50/p99 latency between two processes over the
// WebSocket transport, with 1 and 64 outstanding, against raw ws ping-pong
// (one CBOR message per frame each way) run side by side in the same invocation.
import { encode } from 'cbor-x'
import { ActorSystem } from '@troupe/runtime'
import type { ActorRef } from '@troupe/runtime'
import { WebSocketTransport } from '@troupe/runtime'
import { closedLoop, median } from './lib.js'
import type { Figure } from './lib.js'
import { BENCH_SECRET, RawLink, spawnPeer } from './remote-lib.js'
import type { EchoP } from './remote-lib.js'

type Result = { rate: number; p50: number; p99: number }
const TRIALS = 3
const TOTAL: Record<number, number> = { 1: 10_000, 64: 200_000 }

/** Request/response over the raw link: each Ping in its own frame, answered by a Pong frame. */
function rawPinger(link: RawLink): (rid: number) => Promise<unknown> {
  const pending = new Map<number, (v: unknown) => void>()
  link.onMessage = (m: { rid: number }) => {
    const resolve = pending.get(m.rid)
    pending.delete(m.rid)
    resolve?.(m)
  }
  return (rid) =>
    new Promise((resolve) => {
      pending.set(rid, resolve)
      link.ws.send(encode({ to: 'actor/xyz', from: 'actor/abc', type: 'Ping', rid }))
    })
}

async function trials(window: number, raw: (i: number) => Promise<unknown>, echo: ActorRef<EchoP>): Promise<{ raw: Result; ours: Result }> {
  const total = TOTAL[window]
  await closedLoop(Math.min(total, 5000), window, raw)
  await closedLoop(Math.min(total, 5000), window, (i) => echo.ask('echo', i))
  const r: Result[] = []
  const o: Result[] = []
  for (let t = 0; t < TRIALS; t++) {
    r.push(await closedLoop(total, window, raw))
    o.push(await closedLoop(total, window, (i) => echo.ask('echo', i)))
  }
  const med = (xs: Result[]): Result => ({ rate: median(xs.map((x) => x.rate)), p50: median(xs.map((x) => x.p50)), p99: median(xs.map((x) => x.p99)) })
  return { raw: med(r), ours: med(o) }
}

export async function run(): Promise<Figure[]> {
  const rawPeer = await spawnPeer('raw')
  const troupePeer = await spawnPeer('troupe')
  const link = await RawLink.open(rawPeer.url)
  const transport = new WebSocketTransport({ listen: null, peers: { peer: troupePeer.url }, secret: BENCH_SECRET })
  const system = new ActorSystem({ name: 'bench', transport })
  await system.start()
  const echo = system.remoteRef<EchoP>('peer', '/user/echo')
  const raw = rawPinger(link)
  const figures: Figure[] = []
  try {
    for (const window of [1, 64]) {
      const { raw: base, ours } = await trials(window, raw, echo)
      const baseline = `raw ws ping-pong, ${window} outstanding`
      figures.push({ bench: 'remote-ask', metric: `round trips (${window} outstanding)`, value: ours.rate, unit: 'req/s', kind: 'rate', baseline, baselineValue: base.rate })
      figures.push({ bench: 'remote-ask', metric: `p50 (${window} outstanding)`, value: ours.p50, unit: 'ms', kind: 'latency', baseline, baselineValue: base.p50 })
      figures.push({ bench: 'remote-ask', metric: `p99 (${window} outstanding)`, value: ours.p99, unit: 'ms', kind: 'latency', baseline, baselineValue: base.p99 })
    }
    return figures
  } finally {
    link.close()
    await system.terminate()
    rawPeer.stop()
    troupePeer.stop()
  }
}
