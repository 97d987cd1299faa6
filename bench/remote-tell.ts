// One-way messages/s between actors in two processes over the WebSocket
// transport, against raw ws + cbor-x with 64 messages per frame (the stack
// underneath, no actors, no envelopes), run side by side in the same invocation.
import { encode } from 'cbor-x'
import { ActorSystem, defineActor } from '@troupe/runtime'
import type { ActorRef } from '@troupe/runtime'
import { WebSocketTransport } from '@troupe/runtime'
import { median, nowMs } from './lib.js'
import type { Figure } from './lib.js'
import { BENCH_SECRET, ID, RawLink, spawnPeer } from './remote-lib.js'
import type { SenderP, SinkP } from './remote-lib.js'

const N = 2_048_000
/** The sink grants a chunk of credit back every CHUNK messages: flow control, as a real stream would. */
const CHUNK = 16_384
const CREDIT_CHUNKS = 4
const BATCH = 64
const TRIALS = 3

async function troupeOnce(system: ActorSystem, sink: ActorRef<SinkP>): Promise<number> {
  let done!: () => void
  const finished = new Promise<void>((r) => (done = r))
  const Sender = defineActor({
    initial: () => ({ sent: 0 }),
    handlers: {
      start(s) {
        for (let c = 0; c < CREDIT_CHUNKS; c++) sendChunk(s)
      },
      more(s) {
        sendChunk(s)
      },
      done: () => done(),
    },
  })
  function sendChunk(s: { sent: number }): void {
    const end = Math.min(N, s.sent + CHUNK)
    for (let i = s.sent; i < end; i++) sink.tell('deposit', { amount: 10, id: ID })
    s.sent = end
  }
  const sender = system.spawn(Sender) as ActorRef<SenderP & { start(): void }>
  await sink.ask('expect', { n: N, chunk: CHUNK, sender })
  const t0 = nowMs()
  sender.tell('start')
  await finished
  const rate = N / ((nowMs() - t0) / 1000)
  await system.stop(sender)
  return rate
}

/** As ../shared/bench/peers/bench-ws.mjs: BATCH concatenated CBOR messages per frame, a send-callback wait every 256 frames. */
async function rawOnce(link: RawLink): Promise<number> {
  const mkMsg = () => ({ to: 'actor/xyz', from: 'actor/abc', type: 'Deposit', body: { amount: 10, id: ID } })
  const done = new Promise<void>((r) => (link.onMessage = () => r()))
  link.ws.send(encode({ type: 'Expect', n: N }))
  const t0 = nowMs()
  for (let f = 0; f < N / BATCH; f++) {
    const parts = new Array<Uint8Array>(BATCH)
    for (let i = 0; i < BATCH; i++) parts[i] = encode(mkMsg())
    const frame = Buffer.concat(parts)
    if (f % 256 === 255) await link.sendAwait(frame)
    else link.ws.send(frame)
  }
  await done
  return N / ((nowMs() - t0) / 1000)
}

export async function run(): Promise<Figure[]> {
  const rawPeer = await spawnPeer('raw')
  const troupePeer = await spawnPeer('troupe')
  const link = await RawLink.open(rawPeer.url)
  const transport = new WebSocketTransport({ listen: null, peers: { peer: troupePeer.url }, secret: BENCH_SECRET, maxBufferedBytes: 64 * 1024 * 1024 })
  const system = new ActorSystem({ name: 'bench', transport })
  await system.start()
  const sink = system.remoteRef<SinkP>('peer', '/user/sink')
  try {
    await rawOnce(link)
    await troupeOnce(system, sink)
    // Interleaved trials, so drift on a shared machine hits both alike.
    const raw: number[] = []
    const ours: number[] = []
    for (let i = 0; i < TRIALS; i++) {
      raw.push(await rawOnce(link))
      ours.push(await troupeOnce(system, sink))
    }
    return [
      { bench: 'remote-tell', metric: 'throughput', value: median(ours), unit: 'msg/s', kind: 'rate', baseline: `raw ws+cbor-x, ${BATCH} per frame`, baselineValue: median(raw) },
    ]
  } finally {
    link.close()
    await system.terminate()
    rawPeer.stop()
    troupePeer.stop()
  }
}
