import { createServer, connect } from 'node:net'
import type { Server, Socket } from 'node:net'
import { ActorSystem, WebSocketTransport } from '@troupe/runtime'
import { transportConformance } from '../src/conformance/transport-suite.js'

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * A TCP relay in front of one node, used by one dialer: `cut` destroys the
 * relayed sockets and refuses new ones until `mend`. A partition of real
 * sockets, with the connection loss and redial the transport really sees.
 */
class Relay {
  private readonly server: Server
  private readonly sockets = new Set<Socket>()
  private cutOff = false

  constructor(targetPort: number) {
    this.server = createServer((inbound) => {
      if (this.cutOff) return void inbound.destroy()
      const outbound = connect(targetPort, '127.0.0.1')
      for (const [s, other] of [[inbound, outbound], [outbound, inbound]] as const) {
        this.sockets.add(s)
        s.on('error', () => other.destroy())
        s.on('close', () => {
          this.sockets.delete(s)
          other.destroy()
        })
      }
      inbound.pipe(outbound)
      outbound.pipe(inbound)
    })
  }

  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as { port: number }).port)))
  }

  cut(): void {
    this.cutOff = true
    for (const s of this.sockets) s.destroy()
  }

  mend(): void {
    this.cutOff = false
  }

  close(): Promise<void> {
    this.cut()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

transportConformance('WebSocketTransport', async (names) => {
  const systems: Record<string, ActorSystem> = {}
  const transports: Record<string, WebSocketTransport> = {}
  for (const name of names) {
    transports[name] = new WebSocketTransport({
      listen: { host: '127.0.0.1', port: 0 },
      secret: 'conformance-cluster-secret',
      reconnect: { minMs: 10, maxMs: 100 },
      log: process.env.WS_LOG ? (e) => console.log(`  [${name}] ${e.level} ${e.event} ${e.node ?? ''} ${e.code ?? ''} ${e.reason ?? ''}`) : () => {},
    })
    systems[name] = new ActorSystem({ name, transport: transports[name], askTimeoutMs: 1000 })
    await systems[name].start()
  }
  // relays[x][y]: what x dials to reach y.
  const relays: Record<string, Record<string, Relay>> = {}
  for (const x of names) {
    relays[x] = {}
    for (const y of names) {
      if (x === y) continue
      const relay = new Relay(transports[y].address()!.port)
      relays[x][y] = relay
      transports[x].addPeer(y, `ws://127.0.0.1:${await relay.listen()}`)
    }
  }
  const all = () => names.flatMap((x) => Object.values(relays[x]))
  return {
    systems,
    partition(a, b) {
      for (const x of a) for (const y of b) {
        relays[x][y].cut()
        relays[y][x].cut()
      }
    },
    heal: () => all().forEach((r) => r.mend()),
    wait: sleep,
    settle: (promise) => promise,
    async close() {
      await Promise.all(Object.values(systems).map((s) => s.terminate()))
      await Promise.all(all().map((r) => r.close()))
    },
  }
}).run()
