import { ActorSystem } from '@troupe/runtime'
import type { SystemOptions } from '@troupe/runtime'
import { WebSocketTransport } from '../src/ws/index.js'
import type { TransportLogEntry, WebSocketTransportOptions } from '../src/ws/index.js'

export const SECRET = 'test-cluster-secret-do-not-use-in-prod'

/** A log that keeps every entry for assertions (and prints warnings when WS_LOG is set). */
export class LogSink {
  readonly entries: TransportLogEntry[] = []
  readonly log = (e: TransportLogEntry): void => {
    this.entries.push(e)
    if (process.env.WS_LOG) console.log(`  [${this.label}] ${e.level} ${e.event} node=${e.node ?? '-'} code=${e.code ?? '-'} ${e.reason ?? ''}`)
  }
  constructor(readonly label = '') {}
  find(pred: (e: TransportLogEntry) => boolean): TransportLogEntry | undefined {
    return this.entries.find(pred)
  }
  count(pred: (e: TransportLogEntry) => boolean): number {
    return this.entries.filter(pred).length
  }
}

export interface TestNode {
  name: string
  system: ActorSystem
  transport: WebSocketTransport
  sink: LogSink
  url: string
  stop(): Promise<void>
}

/** A system on a WebSocketTransport listening on an ephemeral loopback port. */
export async function startNode(
  name: string,
  transportOptions: Partial<WebSocketTransportOptions> = {},
  systemOptions: SystemOptions = {},
): Promise<TestNode> {
  const sink = new LogSink(name)
  const transport = new WebSocketTransport({
    listen: { host: '127.0.0.1', port: 0 },
    secret: SECRET,
    reconnect: { minMs: 20, maxMs: 200 },
    log: sink.log,
    ...transportOptions,
  })
  const system = new ActorSystem({ name, transport, askTimeoutMs: 3000, ...systemOptions })
  await system.start()
  return { name, system, transport, sink, url: transport.url() ?? '', stop: () => system.terminate() }
}

/** Tells each node the other's address. */
export function link(...nodes: TestNode[]): void {
  for (const a of nodes) for (const b of nodes) if (a !== b && b.url) a.transport.addPeer(b.name, b.url)
}

/** Polls until `pred` holds; fails with `what` after `timeoutMs` (real time: these tests use real sockets). */
export async function eventually(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Like `eventually`, for an async condition. */
export async function until(pred: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
