import { createSecretKey, randomBytes } from 'node:crypto'
import { WebSocket } from 'ws'
import type { ClientOptions } from 'ws'
import { ActorSystem } from '@troupe/runtime'
import type { SystemOptions } from '@troupe/runtime'
import { WebSocketTransport } from '../src/ws/index.js'
import type { TransportLogEntry, WebSocketTransportOptions } from '../src/ws/index.js'
import { FrameType } from '../src/ws/frames.js'
import { clientProof, decodeChallenge, encodeHello, encodeProof } from '../src/ws/handshake.js'
import { DEFAULT_VERSIONS } from '../src/wire-version.js'

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
  return { name, system, transport, sink, url: transport.url() ?? '', stop: () => system.terminate().then(() => undefined) }
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

/** A bare `ws` client speaking (or mis-speaking) the transport protocol by hand. */
export class RawClient {
  readonly messages: Buffer[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  private waiters: Array<() => void> = []

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(data as Buffer)
      for (const w of this.waiters.splice(0)) w()
    })
    ws.on('error', () => {})
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
  }

  static async connect(url: string, options: ClientOptions = {}): Promise<RawClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...options })
    const client = new RawClient(ws)
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    return client
  }

  send(data: Uint8Array | string): Promise<void> {
    return new Promise((resolve) => this.ws.send(data, () => resolve()))
  }

  async next(): Promise<Buffer> {
    while (this.messages.length === 0) {
      const closed = await Promise.race([new Promise<false>((r) => this.waiters.push(() => r(false))), this.closed.then(() => true)])
      if (closed && this.messages.length === 0) throw new Error('closed while waiting for a message')
    }
    return this.messages.shift()!
  }

  /** Runs the client half of the handshake as node `name`; resolves once Accept arrives. */
  async handshake(name: string, target: string, secret = SECRET): Promise<void> {
    const key = createSecretKey(Buffer.from(secret))
    const hello = { name, incarnation: randomBytes(8).toString('hex'), nonce: randomBytes(32), target, versions: DEFAULT_VERSIONS }
    await this.send(encodeHello(hello))
    const challengeMsg = await this.next()
    if (challengeMsg[0] !== FrameType.Challenge) throw new Error(`expected a challenge, got 0x${challengeMsg[0].toString(16)}`)
    const challenge = decodeChallenge(challengeMsg.subarray(1))
    await this.send(encodeProof(clientProof(key, hello, challenge)))
    const accept = await this.next()
    if (accept[0] !== FrameType.Accept) throw new Error(`expected accept, got 0x${accept[0].toString(16)}`)
  }

  close(): void {
    this.ws.terminate()
  }
}

export interface BareNode {
  name: string
  transport: WebSocketTransport
  sink: LogSink
  received: Array<{ from: string; text: string }>
  disconnects: string[]
  url: string
}

/** A transport alone (no actor system), recording the frames and disconnects it reports. */
export async function startTransport(name: string, options: Partial<WebSocketTransportOptions> = {}): Promise<BareNode> {
  const sink = new LogSink(name)
  const transport = new WebSocketTransport({
    listen: { host: '127.0.0.1', port: 0 },
    secret: SECRET,
    reconnect: { minMs: 20, maxMs: 200 },
    log: sink.log,
    ...options,
  })
  const node: BareNode = { name, transport, sink, received: [], disconnects: [], url: '' }
  await transport.start(name, {
    receive: (from, frame) => void node.received.push({ from, text: Buffer.from(frame).toString() }),
    disconnected: (peer) => void node.disconnects.push(peer),
  })
  node.url = transport.url() ?? ''
  return node
}

export const text = (s: string): Uint8Array => Buffer.from(s)
