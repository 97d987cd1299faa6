// Golden fixtures: what the code did at ee2a485, before the redesign ("the
// behaviour does not change; the shape does"). This module computes every
// fixture; golden.test.ts recomputes them and compares with the committed
// JSON in test/fixtures/golden/, so the same code records and checks.
//
// Record (only from the pristine base commit; the committed JSON must come
// from ee2a485's code, never from a redesigned tree):
//   node --conditions=source --import tsx test/golden/record.ts [part ...]
// parts: scenarios handshake remoting gossip placement hashes (default: all).
// GOLDEN_OUT=<dir> writes elsewhere than test/fixtures/golden/.
//
// Public entries (`@troupe/runtime`, `@troupe/testkit`) are used wherever
// they suffice; everything else comes through ./internals.ts, the one file
// the redesign has to update when it moves modules.
import { createSecretKey } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { WebSocket, WebSocketServer } from 'ws'
import {
  ActorSystem,
  Allocation,
  FixedMembershipView,
  ManualClock,
  MemoryNetwork,
  Sharding,
  WebSocketTransport,
  defineActor,
} from '@troupe/runtime'
import type { ActorRef, Signal, Transport, TransportHandler } from '@troupe/runtime'
import { actorChatter, fnv1aBytes, runSeeds } from '@troupe/testkit'
import type { Scenario } from '@troupe/testkit'
import {
  DAEMON_PATH,
  DEFAULT_VERSIONS,
  FrameType,
  HEARTBEAT_PATH,
  Kind,
  Membership,
  PACKAGE_SCENARIOS,
  Reachability,
  clientProof,
  encodeAccept,
  encodeChallenge,
  encodeFrame,
  encodeHello,
  encodeProof,
  fmix32,
  hash32,
  hash53,
  hashString,
  membershipToWire,
  monitoredNodes,
  serverProof,
  shardOf,
} from './internals.js'
import type { GossipState, GossipStatus, Hello, JoinRequest, Welcome } from './internals.js'

export const FIXTURE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/golden')

const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')

/** Reads one committed fixture (`name` without `.json`). */
export function readFixture<T = any>(name: string, dir = FIXTURE_DIR): T {
  return JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as T
}

// ---------------------------------------------------------------------------
// 1. Simulation scenarios: the trace hash of seeds 1-100 of each
// ---------------------------------------------------------------------------

export const SEEDS: readonly number[] = Array.from({ length: 100 }, (_, i) => i + 1)

/** Every scenario `pnpm sim` runs, in its order (the testkit's own first, then packages/*\/test/*.scenario.ts). */
export const SCENARIOS: readonly Scenario[] = [actorChatter, ...PACKAGE_SCENARIOS]

/**
 * seed → trace hash of one scenario, run in-process, one seed after another
 * (as `pnpm sim` does). (At ee2a485 lease-watch's traces depended on how
 * many LeaseServices the process had made before: a module-level counter named
 * their actors. It is per-system now, and lease-watch's hashes were re-recorded
 * once for it.) A failing seed is recorded as `error: <first line>`: at
 * ee2a485 none fails, so one that does is a change too.
 */
export async function scenarioHashes(scenario: Scenario, seeds: readonly number[] = SEEDS): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const o of await runSeeds(scenario, seeds)) {
    out[String(o.seed)] = o.result !== undefined ? o.result.traceHash : `error: ${String((o.error as Error)?.message ?? o.error).split('\n')[0]}`
  }
  return out
}

// ---------------------------------------------------------------------------
// 2. WebSocket handshake bytes
// ---------------------------------------------------------------------------

/** Deterministic stand-in for random bytes: `length` bytes from a small LCG seeded by `seed`. */
export function fixedBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  let s = seed >>> 0
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    out[i] = s >>> 24
  }
  return out
}

export const HANDSHAKE_INPUTS = {
  secret: 'golden-cluster-secret-0123456789',
  client: { name: 'node-a', incarnationBytes: fixedBytes(8, 1), nonce: fixedBytes(32, 2) },
  server: { name: 'node-b', incarnationBytes: fixedBytes(8, 3), nonce: fixedBytes(32, 4) },
  /** One remoting frame (opaque to the transport) sent after the handshake. */
  data: Uint8Array.from(Buffer.from('golden remoting frame \u00e9\u{1f642}')),
}

/**
 * The four handshake messages and a data frame, each as the whole WebSocket
 * message (type byte + CBOR body), built by the handshake's own encoders
 * from fixed names, incarnations, nonces and secret. The incarnation is the
 * hex of 8 random bytes, as the WebSocket transport makes it.
 */
export function handshakeFixture() {
  const i = HANDSHAKE_INPUTS
  const key = createSecretKey(Buffer.from(i.secret))
  const hello: Hello = { name: i.client.name, incarnation: Buffer.from(i.client.incarnationBytes).toString('hex'), nonce: i.client.nonce, target: i.server.name, versions: DEFAULT_VERSIONS }
  const server = { name: i.server.name, incarnation: Buffer.from(i.server.incarnationBytes).toString('hex'), nonce: i.server.nonce, versions: DEFAULT_VERSIONS, version: DEFAULT_VERSIONS.max }
  const sProof = serverProof(key, hello, server)
  const cProof = clientProof(key, hello, server)
  return {
    inputs: {
      secret: i.secret,
      client: { name: hello.name, incarnation: hello.incarnation, nonce: hex(hello.nonce), target: hello.target, versions: { min: hello.versions.min, max: hello.versions.max } },
      server: { name: server.name, incarnation: server.incarnation, nonce: hex(server.nonce), versions: { min: server.versions.min, max: server.versions.max }, version: server.version },
      data: hex(i.data),
    },
    serverProof: hex(sProof),
    clientProof: hex(cProof),
    frames: {
      hello: hex(encodeHello(hello)),
      challenge: hex(encodeChallenge({ ...server, proof: sProof })),
      proof: hex(encodeProof(cProof)),
      accept: hex(encodeAccept()),
      data: hex(encodeFrame(FrameType.Data, i.data)),
    },
  }
}

/** A `randomBytes` that hands out `values` in order (then fails: nothing else should need randomness). */
function scriptedRandomBytes(values: Uint8Array[]): (length: number) => Uint8Array {
  const queue = [...values]
  return (length) => {
    const next = queue.shift()
    if (next === undefined || next.length !== length) throw new Error(`golden: unexpected randomBytes(${length})`)
    return Uint8Array.from(next)
  }
}

function nextMessage(ws: WebSocket, messages: Buffer[]): Promise<Buffer> {
  if (messages.length > 0) return Promise.resolve(messages.shift()!)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('golden: no WebSocket message within 10 s')), 10_000)
    const onMessage = () => {
      clearTimeout(timer)
      ws.off('close', onClose)
      resolve(messages.shift()!)
    }
    const onClose = (code: number, reason: Buffer) => {
      clearTimeout(timer)
      ws.off('message', onMessage)
      reject(new Error(`golden: socket closed (${code} ${reason.toString()}) while waiting for a message`))
    }
    ws.once('message', onMessage)
    ws.once('close', onClose)
  })
}

function collect(ws: WebSocket): Buffer[] {
  const messages: Buffer[] = []
  ws.on('message', (data) => void messages.push(data as Buffer))
  return messages
}

const quietLog = () => {}

/**
 * The same handshake through the real WebSocketTransport on loopback, its
 * random bytes scripted to the fixture's incarnations and nonces, against a
 * raw `ws` peer that speaks the fixture's messages: what the transport sends
 * as client (hello, proof, data) and as server (challenge, accept).
 */
export async function handshakeOverWebSocket(): Promise<{ hello: string; challenge: string; proof: string; accept: string; data: string }> {
  const f = handshakeFixture()
  const i = HANDSHAKE_INPUTS
  const out = { hello: '', challenge: '', proof: '', accept: '', data: '' }

  // The transport dials: a raw server plays node-b.
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
  await new Promise<void>((r) => wss.once('listening', () => r()))
  const port = (wss.address() as { port: number }).port
  const client = new WebSocketTransport({
    listen: null,
    secret: i.secret,
    keepAlive: null,
    randomBytes: scriptedRandomBytes([i.client.incarnationBytes, i.client.nonce]),
    log: quietLog,
  })
  const sockets: WebSocket[] = []
  wss.on('connection', (ws) => void sockets.push(ws))
  try {
    const accepted = new Promise<WebSocket>((r) => wss.once('connection', (ws) => r(ws)))
    await client.start(i.client.name, { receive: () => {} })
    client.addPeer(i.server.name, `ws://127.0.0.1:${port}`)
    client.send(i.server.name, i.data)
    const peer = await accepted
    const got = collect(peer)
    out.hello = hex(await nextMessage(peer, got))
    peer.send(Buffer.from(f.frames.challenge, 'hex'))
    out.proof = hex(await nextMessage(peer, got))
    peer.send(Buffer.from(f.frames.accept, 'hex'))
    out.data = hex(await nextMessage(peer, got))
  } finally {
    await client.stop()
    for (const ws of sockets) ws.terminate()
    await new Promise<void>((r) => wss.close(() => r()))
  }

  // The transport listens: a raw client plays node-a.
  const server = new WebSocketTransport({
    listen: { host: '127.0.0.1', port: 0 },
    secret: i.secret,
    keepAlive: null,
    randomBytes: scriptedRandomBytes([i.server.incarnationBytes, i.server.nonce]),
    log: quietLog,
  })
  await server.start(i.server.name, { receive: () => {} })
  const ws = new WebSocket(server.url()!, { perMessageDeflate: false })
  try {
    const got = collect(ws)
    await new Promise<void>((r, reject) => {
      ws.once('open', () => r())
      ws.once('error', reject)
    })
    ws.send(Buffer.from(f.frames.hello, 'hex'))
    out.challenge = hex(await nextMessage(ws, got))
    ws.send(Buffer.from(f.frames.proof, 'hex'))
    out.accept = hex(await nextMessage(ws, got))
  } finally {
    ws.terminate()
    await server.stop()
  }
  return out
}

// ---------------------------------------------------------------------------
// 3. Remoting frames, as remoting hands them to the transport
// ---------------------------------------------------------------------------

export interface RecordedFrame {
  from: string
  to: string
  hex: string
}

/** A transport that records every frame remoting hands it, then passes it on. */
export class RecordingTransport implements Transport {
  private self = ''

  constructor(
    private readonly inner: Transport,
    readonly frames: RecordedFrame[],
  ) {}

  start(self: string, handler: TransportHandler): Promise<void> {
    this.self = self
    return this.inner.start(self, handler)
  }

  send(node: string, frame: Uint8Array): void {
    this.frames.push({ from: this.self, to: node, hex: hex(frame) })
    this.inner.send(node, frame)
  }

  stop(): Promise<void> {
    return this.inner.stop()
  }
}

/** A fixed LCG in [0, 1) (the systems' `random`). */
function lcg(seed: number): () => number {
  let s = seed >>> 0
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296
}

/** Lets queued microtasks and immediates run (the dispatcher yields with setImmediate). */
async function settle(rounds = 10): Promise<void> {
  for (let r = 0; r < rounds; r++) await new Promise((done) => setImmediate(done))
}

const describeError = (e: unknown) => {
  const err = e as { code?: unknown; name?: unknown; message?: unknown }
  return { code: err.code ?? null, name: String(err.name), message: String(err.message) }
}

/** A payload of many CBOR shapes, two refs (a plain actor and an entity) among them. */
function richPayload(driver: ActorRef, entity: ActorRef) {
  return {
    text: 'héllo \u{1f642} wörld',
    empty: '',
    ints: [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32, Number.MAX_SAFE_INTEGER, -1, -24, -25, -(2 ** 31)],
    floats: [0.5, -1.25, 3.141592653589793, 1e-7, 1e300],
    flags: [true, false, null],
    bytes: Uint8Array.of(0, 1, 2, 253, 254, 255),
    nested: { a: [1, [2, [3, { b: 'c' }]]], 'key with spaces': { '': 0 } },
    refs: { driver, entity },
  }
}

/**
 * Two systems ('a', 'b') with remoting over a MemoryNetwork behind recording
 * transports, on a ManualClock (so ask ids, which start at the start time ×
 * 1024 + 1, are fixed) with fixed `random`. 'a' sends one batch in a single
 * turn: tells (one with a rich payload carrying an actor ref and an entity
 * ref), asks (with their ask ids) that get an ok reply, a reply carrying a
 * ref, a HANDLER_FAILED and an ACTOR_NOT_FOUND error reply; an actor on 'a'
 * tells with itself as sender, watches, unwatches and gets Terminated.
 * Records every frame in order and what each side observed.
 */
export async function remotingFixture() {
  const frames: RecordedFrame[] = []
  const net = new MemoryNetwork()
  const clock = new ManualClock(1_000_000)
  const a = new ActorSystem({ name: 'a', clock, random: lcg(1), askTimeoutMs: 60_000, transport: new RecordingTransport(net.transport(), frames) })
  const b = new ActorSystem({ name: 'b', clock, random: lcg(2), askTimeoutMs: 60_000, transport: new RecordingTransport(net.transport(), frames) })
  await a.start()
  await b.start()
  const observed: string[] = []
  try {
    const shardingA = Sharding.start(a, new FixedMembershipView('a', ['a']))
    Sharding.start(b, new FixedMembershipView('b', ['b']))
    const Account = defineActor({ name: 'account', initial: () => 0, handlers: { get: (s) => s } })
    shardingA.register(Account)

    const Target = defineActor({
      name: 'target',
      initial: () => ({ sum: 0 }),
      supervision: { onFailure: 'resume' },
      handlers: {
        add(s, by: number, ctx) {
          s.sum += by
          observed.push(`b target add ${by} from ${ctx.sender?.toString() ?? 'null'}`)
        },
        data(_s, p: ReturnType<typeof richPayload>, ctx) {
          observed.push(`b target data refs ${p.refs.driver.toString()} ${p.refs.entity.toString()} bytes ${hex(p.bytes)} from ${ctx.sender?.toString() ?? 'null'}`)
        },
        get: (s) => s.sum,
        self: (_s, _: void, ctx) => ctx.self,
        fail() {
          throw new Error('golden boom')
        },
        forward(_s, p: { to: ActorRef<{ add(n: number): void }>; n: number }) {
          p.to.tell('add', p.n)
        },
      },
    })
    const target = b.spawn(Target, { name: 'target' })

    type TargetRef = ActorRef<{ add(n: number): void; forward(p: { to: ActorRef; n: number }): void }>
    const Driver = defineActor({
      name: 'driver',
      initial: () => ({ watched: null as TargetRef | null }),
      handlers: {
        go(s, remote: TargetRef, ctx) {
          ctx.tell(remote, 'add', 3)
          remote.tell('forward', { to: ctx.self, n: 5 })
          ctx.watch(remote)
          s.watched = remote
        },
        unwatch(s, _: void, ctx) {
          if (s.watched !== null) ctx.unwatch(s.watched)
        },
        watchAgain(s, _: void, ctx) {
          if (s.watched !== null) ctx.watch(s.watched)
        },
        add(_s, n: number, ctx) {
          observed.push(`a driver add ${n} from ${ctx.sender?.toString() ?? 'null'}`)
        },
      },
      onSignal(_s, signal: Signal) {
        observed.push(`a driver signal ${JSON.stringify({ ...signal, ref: (signal as { ref?: ActorRef }).ref?.toString() })}`)
      },
    })
    const driver = a.spawn(Driver, { name: 'driver' })
    await settle()
    frames.length = 0 // only what the exchange below sends

    // One turn on 'a': everything goes into one frame to 'b'.
    const remote = a.remoteRef('b', '/user/target')
    remote.tell('add', 2)
    remote.tell('data', richPayload(driver, shardingA.entity(Account, 'acct-7')))
    const asks = {
      get: remote.ask('get'),
      self: remote.ask('self'),
      fail: remote.ask('fail'),
      missing: a.remoteRef('b', '/user/nobody').ask('get'),
    }
    driver.tell('go', remote)
    const replies: Record<string, unknown> = {}
    for (const [name, p] of Object.entries(asks)) {
      replies[name] = await p.then(
        (v) => ({ ok: v === null || typeof v !== 'object' ? v : String(v) }),
        (e) => ({ error: describeError(e) }),
      )
    }
    await settle()
    driver.tell('unwatch')
    await settle()
    driver.tell('watchAgain')
    await settle()
    await b.stop(target)
    await settle()
    return {
      note: 'frames remoting handed to the transport, in order; each frame is a CBOR sequence of envelopes (remote/wire.ts Kind)',
      kinds: Kind,
      frames,
      replies,
      observed,
    }
  } finally {
    await a.terminate()
    await b.terminate()
  }
}

// ---------------------------------------------------------------------------
// 4. Membership gossip
// ---------------------------------------------------------------------------

const INC = 1_700_000_000_000

/** A fixed membership state: every status, a tombstone, an unreachability observation, a seen set, a member with info. */
export function fixedMembership(): Membership {
  return Membership.from(
    [
      { node: 'a', address: 'ws://10.0.0.1:7001', incarnation: INC + 1, status: 'up' },
      { node: 'b', address: 'ws://10.0.0.2:7001', incarnation: INC + 2, status: 'up' },
      { node: 'c', address: 'ws://10.0.0.3:7001', incarnation: INC + 3, status: 'joining' },
      { node: 'd', address: 'ws://10.0.0.4:7001', incarnation: INC + 4, status: 'leaving' },
      { node: 'e', address: 'ws://10.0.0.5:7001', incarnation: INC + 5, status: 'exiting' },
      { node: 'f', address: 'ws://10.0.0.6:7001', incarnation: INC + 6, status: 'down' },
      { node: 'n\u00f6de-\u{1f642}', address: 'wss://[::1]:7443', incarnation: 7, status: 'up' },
      // Since wire version 2: a member that says its app version, roles, metadata and wire range (the record's long form).
      {
        node: 'v',
        address: 'ws://10.0.0.9:7001',
        incarnation: INC + 9,
        status: 'up',
        info: { appVersion: '2.1.0', roles: ['backend', 'frontend'], metadata: { rack: '7', zone: 'eu-1' }, wire: { min: 2, max: 3 } },
      },
    ],
    [{ node: 'g', incarnation: INC + 7, removedAtMs: INC + 99_000 }],
    Reachability.from([
      { observer: 'a', incarnation: INC + 1, version: 3, unreachable: [{ node: 'b', incarnation: INC + 2 }, { node: 'f', incarnation: INC + 6 }] },
      { observer: 'c', incarnation: INC + 3, version: 1, unreachable: [{ node: 'b', incarnation: INC + 2 }] },
    ]),
    ['b', 'a', 'c'],
  )
}

/**
 * The daemon messages for the fixed state, each sent the way the cluster
 * sends them (a tell to the peer's /system/cluster or heartbeat actor from
 * outside any actor), and the frame remoting hands the transport for each.
 */
export interface GossipFixture {
  /** membershipToWire of the fixed state (plain arrays, as CBOR carries them). */
  wire: unknown
  digest: number
  leaderOfA: string | null
  convergedForA: boolean
  unreachableForA: string[]
  /** Message type → hex of the frame remoting hands the transport. */
  frames: Record<string, string>
}

export async function gossipFixture(): Promise<GossipFixture> {
  const state = fixedMembership()
  const wire = membershipToWire(state)
  const frames: RecordedFrame[] = []
  const net = new MemoryNetwork()
  const system = new ActorSystem({ name: 'a', clock: new ManualClock(1_000_000), random: lcg(3), transport: new RecordingTransport(net.transport(), frames) })
  await system.start()
  const messages: Array<[path: string, type: string, payload: unknown, label?: string]> = [
    [DAEMON_PATH, 'gossip', { from: 'a', gossip: wire } satisfies GossipState],
    [DAEMON_PATH, 'status', { from: 'a', digest: state.digest(), seen: [...state.seen].sort() } satisfies GossipStatus],
    [DAEMON_PATH, 'welcome', { from: 'a', gossip: wire } satisfies Welcome],
    [DAEMON_PATH, 'join', { node: 'h', address: 'ws://10.0.0.8:7001', incarnation: INC + 8 } satisfies JoinRequest],
    [DAEMON_PATH, 'join', { node: 'v', address: 'ws://10.0.0.9:7001', incarnation: INC + 9, appVersion: '2.1.0', roles: ['backend'], metadata: { zone: 'eu-1' }, wireMin: 2, wireMax: 3 } satisfies JoinRequest, 'joinWithInfo'],
    [HEARTBEAT_PATH, 'heartbeat', { from: 'a' }],
    [HEARTBEAT_PATH, 'heartbeatAck', { from: 'a', incarnation: INC + 1 }],
  ]
  const sent: Record<string, string> = {}
  try {
    for (const [path, type, payload, label] of messages) {
      frames.length = 0
      system.remoteRef('b', path).tell(type, payload)
      await settle(2)
      if (frames.length !== 1) throw new Error(`golden: ${type} produced ${frames.length} frames`)
      sent[label ?? type] = frames[0].hex
    }
  } finally {
    await system.terminate()
  }
  return { wire, digest: state.digest(), leaderOfA: state.leader('a'), convergedForA: state.converged('a'), unreachableForA: [...state.unreachable('a')].sort(), frames: sent }
}

// ---------------------------------------------------------------------------
// 5. Shard placement
// ---------------------------------------------------------------------------

/** 1,000 entity ids: plain, prefixed, with '/', spaces and non-ASCII, and with astral characters (two UTF-16 units). */
export const ENTITY_IDS: readonly string[] = Array.from({ length: 1000 }, (_, i) => {
  switch (i % 5) {
    case 0:
      return String(i)
    case 1:
      return `user-${i}`
    case 2:
      return `order/${i}/\u00fc ber`
    case 3:
      return `\u{1f642}${i}\u6f22`
    default:
      return `acct-${String(i).padStart(6, '0')}`
  }
})

export const PLACEMENTS = {
  '3 nodes': ['n1', 'n2', 'n3'],
  '4 nodes': ['n1', 'n2', 'n3', 'n4'],
} as const

/** Default shard count (ShardingOptions.shards). */
export const SHARDS = 1024

/**
 * Entity id → shard (through a started Sharding's public `shardOf`) → owner
 * node (public `Allocation`, what every region computes from the sorted up
 * members), for 3 and 4 nodes; plus each table's owner of every shard.
 */
export async function placementFixture() {
  const system = new ActorSystem({ name: 'n1', clock: new ManualClock(1_000_000), random: lcg(4) })
  const sharding = Sharding.start(system, new FixedMembershipView('n1', ['n1']))
  try {
    const shard: Record<string, number> = {}
    for (const id of ENTITY_IDS) shard[id] = sharding.shardOf(id)
    const tables: Record<string, { members: string[]; owner: Record<string, string>; shardOwners: string[]; counts: Record<string, number> }> = {}
    for (const [label, members] of Object.entries(PLACEMENTS)) {
      const table = Allocation.compute(members, SHARDS)
      const owner: Record<string, string> = {}
      for (const id of ENTITY_IDS) owner[id] = table.ownerOf(shard[id])
      tables[label] = {
        members: [...members],
        owner,
        shardOwners: Array.from({ length: SHARDS }, (_, s) => table.ownerOf(s)),
        counts: Object.fromEntries(table.counts()),
      }
    }
    return { shards: SHARDS, shard, placements: tables }
  } finally {
    await system.terminate()
  }
}

/**
 * Where entities actually run: `nodes` systems on a MemoryNetwork, each with
 * a Sharding over the same fixed view, one entity kind that answers with its
 * node's name; every id is asked through the first node. Real clock (the
 * regions exchange statuses on their ticks); the answer does not depend on
 * timing once the view is stable.
 */
export async function livePlacement(members: readonly string[], ids: readonly string[]): Promise<Record<string, string>> {
  const net = new MemoryNetwork()
  const Where = defineActor({ name: 'golden-where', initial: () => null, handlers: { where: (_s, _: void, ctx) => ctx.system.name } })
  const nodes = members.map((name) => {
    const system = new ActorSystem({ name, transport: net.transport(), askTimeoutMs: 30_000 })
    return { system, sharding: null as Sharding | null }
  })
  try {
    for (const n of nodes) await n.system.start()
    for (const n of nodes) {
      n.sharding = Sharding.start(n.system, new FixedMembershipView(n.system.name, members), { passivateAfterMs: 0 })
      n.sharding.register(Where)
    }
    const via = nodes[0].sharding!
    const out: Record<string, string> = {}
    const batch = 100
    for (let i = 0; i < ids.length; i += batch) {
      const chunk = ids.slice(i, i + batch)
      const answers = await Promise.all(chunk.map((id) => via.entity(Where, id).ask('where') as Promise<string>))
      chunk.forEach((id, k) => (out[id] = answers[k]))
    }
    return out
  } finally {
    for (const n of nodes) await n.system.terminate()
  }
}

// ---------------------------------------------------------------------------
// 6. The hash functions behind placement, the monitoring ring and digests
// ---------------------------------------------------------------------------

/** 300 strings: the empty one, short ones, node-like and entity-like names, non-ASCII and astral. */
export const HASH_INPUTS: readonly string[] = [
  '',
  'a',
  'b',
  'ab',
  'ba',
  ...Array.from({ length: 295 }, (_, i) => {
    switch (i % 5) {
      case 0:
        return `node-${i}`
      case 1:
        return `n${i}`
      case 2:
        return `ws://10.0.${i % 256}.${(i * 7) % 256}:7000`
      case 3:
        return `entity/\u00e9\u{1f642}/${i}`
      default:
        return `${'x'.repeat(i % 40)}${i}`
    }
  }),
]

const RING_NODES = ['a', 'b', 'c', 'd', 'e', 'node-1', 'node-2', 'node-3', 'ws-east-1', 'ws-west-2']

/**
 * Per input: [sharding hashString (FNV-1a + fmix32), cluster hash32 (FNV-1a,
 * orders the monitoring ring), cluster hash53 (gossip digest)]; fmix32 and
 * shardOf on fixed inputs; and which nodes each node heartbeats on a ring.
 */
export function hashesFixture() {
  const strings: Record<string, [number, number, number]> = {}
  for (const s of HASH_INPUTS) strings[s] = [hashString(s), hash32(s), hash53(s)]
  const ints = [0, 1, 2, 3, 255, 256, 0x7fffffff, 0x80000000, 0xffffffff, 0x9e3779b1, ...Array.from({ length: 40 }, (_, i) => Math.imul(i + 1, 0x9e3779b1) >>> 0)]
  const fmix: Record<string, number> = {}
  for (const n of ints) fmix[String(n)] = fmix32(n)
  const shardOfSmall: Record<string, number[]> = {}
  for (const s of HASH_INPUTS.slice(0, 50)) shardOfSmall[s] = [1, 2, 3, 7, 100, 1024, 65_536].map((n) => shardOf(s, n))
  const ring: Record<string, string[]> = {}
  for (const self of RING_NODES) {
    for (const k of [1, 2, 3, 5]) ring[`${self} k=${k}`] = monitoredNodes(self, RING_NODES, k, new Set())
    ring[`${self} k=2 unreachable=a,node-2`] = monitoredNodes(self, RING_NODES, 2, new Set(['a', 'node-2']))
  }
  const trace: Record<string, number> = {}
  for (const s of ['', 'a', 'golden', 'seed 1 tick 0 send a->b', '\u00e9\u{1f642}']) trace[s] = fnv1aBytes(Buffer.from(s))
  return { strings, fmix32: fmix, shardOf: shardOfSmall, monitorRing: ring, testkitFnv1aBytes: trace }
}

// ---------------------------------------------------------------------------
// Recording
// ---------------------------------------------------------------------------

export const PARTS = ['scenarios', 'handshake', 'remoting', 'gossip', 'placement', 'hashes'] as const
export type Part = (typeof PARTS)[number]

async function record(parts: readonly Part[], dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true })
  const write = (name: string, value: unknown) => {
    writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(value, null, 2)}\n`)
    console.log(`wrote ${join(dir, `${name}.json`)}`)
  }
  for (const part of parts) {
    const started = performance.now()
    switch (part) {
      case 'scenarios': {
        const out: Record<string, Record<string, string>> = {}
        for (const s of SCENARIOS) {
          const t = performance.now()
          out[s.name] = await scenarioHashes(s)
          console.log(`  ${s.name}: ${((performance.now() - t) / 1000).toFixed(1)} s`)
        }
        write('scenarios', out)
        break
      }
      case 'handshake': {
        const f = handshakeFixture()
        const live = await handshakeOverWebSocket()
        for (const k of Object.keys(live) as Array<keyof typeof live>) {
          if (live[k] !== f.frames[k]) throw new Error(`golden: the WebSocketTransport's ${k} differs from the encoders' (${live[k]} vs ${f.frames[k]})`)
        }
        write('handshake', f)
        break
      }
      case 'remoting':
        write('remoting', await remotingFixture())
        break
      case 'gossip':
        write('gossip', await gossipFixture())
        break
      case 'placement': {
        const f = await placementFixture()
        for (const [label, members] of Object.entries(PLACEMENTS)) {
          const live = await livePlacement(members, ENTITY_IDS)
          const bad = ENTITY_IDS.find((id) => live[id] !== f.placements[label].owner[id])
          if (bad !== undefined) throw new Error(`golden: ${label}: entity ${bad} runs on ${live[bad]}, the allocation says ${f.placements[label].owner[bad]}`)
        }
        write('placement', f)
        break
      }
      case 'hashes':
        write('hashes', hashesFixture())
        break
    }
    console.log(`${part}: ${((performance.now() - started) / 1000).toFixed(1)} s`)
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const asked = process.argv.slice(2)
  const unknown = asked.filter((p) => !(PARTS as readonly string[]).includes(p))
  if (unknown.length > 0) {
    console.error(`unknown part(s) ${unknown.join(', ')}; parts: ${PARTS.join(' ')}`)
    process.exit(2)
  }
  const dir = process.env.GOLDEN_OUT ? resolve(process.env.GOLDEN_OUT) : FIXTURE_DIR
  record(asked.length > 0 ? (asked as Part[]) : PARTS, dir).then(
    () => process.exit(0),
    (err) => {
      console.error(err)
      process.exit(1)
    },
  )
}
