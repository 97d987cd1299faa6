// The other process of the remote benchmarks. Usage (spawned by remote-lib.ts):
//   node --conditions=source --import tsx bench/remote-peer.ts troupe|raw
// Prints {"port": N} on stdout once listening; exits when stdin closes or on SIGTERM.
//   troupe: an ActorSystem named 'peer' on a WebSocketTransport, with /user/sink
//           (counts deposits, grants credit, reports done) and /user/echo.
//   raw:    the raw-stack baseline (as ../shared/bench/peers/ws-server.mjs): a ws
//           server reading CBOR sequences; Expect n → Done after n messages; Ping → Pong.
import { decodeMultiple, encode } from 'cbor-x'
import { WebSocketServer } from 'ws'
import { ActorSystem, defineActor } from '@troupe/runtime'
import type { ActorRef } from '@troupe/runtime'
import { WebSocketTransport } from '@troupe/runtime'
import { BENCH_SECRET } from './remote-lib.js'
import type { Deposit, SenderP } from './remote-lib.js'

/** Counts deposits; every `chunk` of them grants the sender another chunk of credit. */
const Sink = defineActor({
  initial: () => ({ n: 0, expected: 0, chunk: 0, sender: null as ActorRef<SenderP> | null, ring: new Array<Deposit>(1024) }),
  handlers: {
    expect(s, p: { n: number; chunk: number; sender: ActorRef<SenderP> }) {
      s.n = 0
      s.expected = p.n
      s.chunk = p.chunk
      s.sender = p.sender
    },
    deposit(s, m: Deposit) {
      s.ring[s.n & 1023] = m
      if (++s.n === s.expected) s.sender!.tell('done')
      else if (s.n % s.chunk === 0) s.sender!.tell('more')
    },
  },
})

const Echo = defineActor({ initial: () => null, handlers: { echo: (_s, x: number) => x } })

async function troupe(): Promise<number> {
  const transport = new WebSocketTransport({ listen: { host: '127.0.0.1', port: 0 }, secret: BENCH_SECRET, maxBufferedBytes: 64 * 1024 * 1024 })
  const system = new ActorSystem({ name: 'peer', transport })
  await system.start()
  system.spawn(Sink, { name: 'sink' })
  system.spawn(Echo, { name: 'echo' })
  return transport.address()!.port
}

async function raw(): Promise<number> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
  wss.on('connection', (ws) => {
    let expect = -1
    let count = 0
    ws.on('message', (data) => {
      decodeMultiple(data as Buffer, (m: any) => {
        if (m.type === 'Ping') ws.send(encode({ to: m.from, from: m.to, type: 'Pong', rid: m.rid }))
        else if (m.type === 'Expect') {
          expect = m.n
          count = 0
        } else if (++count === expect) ws.send(encode({ type: 'Done', n: count }))
      })
    })
  })
  await new Promise<void>((r) => wss.on('listening', () => r()))
  return (wss.address() as { port: number }).port
}

const port = process.argv[2] === 'raw' ? await raw() : await troupe()
process.stdout.write(`${JSON.stringify({ port })}\n`)
// The parent holds our stdin: when it exits (even killed), so do we.
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
process.on('SIGTERM', () => process.exit(0))
