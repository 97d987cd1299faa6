// A rolling upgrade on the wire, on real WebSockets in one process: nodes of
// this build (wire version N) and of the test build that speaks [N, N+1]
// form one cluster and interoperate both ways (tells, asks, watches,
// gossip); two new nodes speak N+1 to each other (the trailing envelope
// field travels, the new message kind is delivered); a node that requires
// N+1 and an N-only node refuse each other with the typed reason.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, Cluster, WebSocketTransport, defineActor } from '@troupe/runtime'
import type { ActorRef, VersionMismatch, WebSocketTransportOptions } from '@troupe/runtime'
import { nextWire } from '@troupe/runtime/testing'
import { WIRE_VERSION, WIRE_VERSION_NEXT } from '../src/wire-version.js'
import { LogSink, SECRET, eventually, until } from './ws-helpers.js'

const test = suite('wire upgrade')

const N = WIRE_VERSION
const NEXT = WIRE_VERSION_NEXT

const Counter = defineActor({
  name: 'counter',
  initial: () => ({ n: 0 }),
  handlers: {
    add: (s, by: number) => void (s.n += by),
    get: (s) => s.n,
  },
})
type CounterP = { add(n: number): void; get(): number }

const Watcher = defineActor({
  name: 'watcher',
  initial: () => [] as string[],
  handlers: {
    watch: (_s, ref: ActorRef, ctx) => void ctx.watch(ref),
    seen: (s) => s,
  },
  onSignal: (s, sig) => void s.push(`${sig.type}:${(sig as { ref?: ActorRef }).ref?.path}`),
})

interface Node {
  name: string
  system: ActorSystem
  transport: WebSocketTransport
  cluster: Cluster
  sink: LogSink
  rejected: string[]
  url: string
}

async function startMember(name: string, seeds: Node[], wire?: WebSocketTransportOptions['wire']): Promise<Node> {
  const sink = new LogSink(name)
  const transport = new WebSocketTransport({ listen: { host: '127.0.0.1', port: 0 }, secret: SECRET, reconnect: { minMs: 20, maxMs: 200 }, log: sink.log, ...(wire ? { wire } : {}) })
  const system = new ActorSystem({ name, transport, askTimeoutMs: 5000 })
  await system.start()
  const rejected: string[] = []
  system.events.on('inboundRejected', (r) => void rejected.push(`${r.from}: ${r.reason}`))
  const url = transport.url()!
  const cluster = Cluster.start(system, {
    address: url,
    seeds: seeds.length === 0 ? [{ node: name, address: url }] : seeds.map((s) => ({ node: s.name, address: s.url })),
    transport,
    appVersion: wire ? '2.0.0' : '1.0.0',
    heartbeatIntervalMs: 200,
    gossipIntervalMs: 100,
    seedTimeoutMs: 200,
    acceptableHeartbeatPauseMs: 3000,
    loopLag: false,
  })
  system.spawn(Counter, { name: 'counter' })
  return { name, system, transport, cluster, sink, rejected, url }
}

const upEverywhere = (nodes: Node[]) => nodes.every((n) => nodes.every((m) => n.cluster.members().some((x) => x.node === m.name && x.status === 'up')))

test(`old (${N}) and new ([${N}, ${NEXT}]) interoperate both ways; new and new speak ${NEXT}`, async () => {
  const old = await startMember('old', [])
  const new1 = await startMember('new1', [old], { experimental: 'next' })
  const new2 = await startMember('new2', [old], { experimental: 'next' })
  const nodes = [old, new1, new2]
  try {
    await eventually(() => upEverywhere(nodes), 'gossip: every node sees all three up', 15_000)
    for (const n of nodes) {
      assert.is(n.cluster.version, N, `${n.name}: cluster version`)
      assert.equal(n.cluster.members().find((m) => m.node === 'new1')!.wire, { min: N, max: NEXT })
      assert.is(n.cluster.members().find((m) => m.node === 'old')!.appVersion, '1.0.0')
    }

    // Tells and asks, every ordered pair.
    for (const from of nodes) {
      for (const to of nodes) {
        if (from === to) continue
        from.system.remoteRef<CounterP>(to.name, '/user/counter').tell('add', 1)
      }
    }
    for (const from of nodes) {
      for (const to of nodes) {
        if (from === to) continue
        await until(async () => (await from.system.remoteRef<CounterP>(to.name, '/user/counter').ask('get')) === 2, `${from.name} asks ${to.name}`)
      }
    }

    // Versions per link.
    const probe = Object.fromEntries(nodes.map((n) => [n.name, nextWire(n.system)]))
    assert.is(probe.new1.peerVersion('new2'), NEXT)
    assert.is(probe.new2.peerVersion('new1'), NEXT)
    assert.is(probe.new1.peerVersion('old'), N)
    assert.is(probe.old.peerVersion('new1'), N)
    assert.is(new1.transport.peerVersion('new2'), NEXT)

    // The trailing field travels new -> new, never to or from old.
    const fromNew1 = probe.new2.stats().lastFieldFrom.new1 ?? 0
    assert.ok(fromNew1 > 0, JSON.stringify(probe.new2.stats()))
    assert.is(probe.new2.stats().lastFieldFrom.old, undefined)
    assert.is(probe.old.stats().trailingFieldsSeen, 0)

    // The new message kind: delivered new -> new; not sent to old.
    const notes: string[] = []
    probe.new2.onNote((from, text) => void notes.push(`${from}: ${text}`))
    assert.ok(probe.new1.sendNote('new2', 'hello at version 3'))
    await eventually(() => notes.length === 1, 'the note arrives')
    assert.equal(notes, ['new1: hello at version 3'])
    assert.not.ok(probe.new1.sendNote('old', 'old nodes do not get this'))
    assert.not.ok(probe.old.sendNote('new1', 'an old node cannot send it'))

    // Watches both ways: new watches old's actor, old watches new's.
    const w1 = new1.system.spawn(Watcher, { name: 'w' })
    const w0 = old.system.spawn(Watcher, { name: 'w' })
    const oldTarget = old.system.spawn(Counter, { name: 'target' })
    const newTarget = new2.system.spawn(Counter, { name: 'target' })
    w1.tell('watch', new1.system.remoteRef('old', '/user/target'))
    w0.tell('watch', old.system.remoteRef('new2', '/user/target'))
    await until(async () => (await new1.system.remoteRef<CounterP>('old', '/user/target').ask('get')) === 0, 'target on old')
    await new1.system.remoteRef<CounterP>('old', '/user/counter').ask('get') // the watch went out before this ask
    await old.system.remoteRef<CounterP>('new2', '/user/counter').ask('get')
    await old.system.stop(oldTarget)
    await new2.system.stop(newTarget)
    await until(async () => (await w1.ask('seen')).length > 0 && (await w0.ask('seen')).length > 0, 'both watchers get Terminated')
    assert.equal(await w1.ask('seen'), ['terminated:/user/target'])
    assert.equal(await w0.ask('seen'), ['terminated:/user/target'])

    // Nobody rejected anything, no connection closed for a version.
    for (const n of nodes) {
      assert.equal(n.rejected, [], n.name)
      assert.not.ok(n.sink.find((e) => e.code === 4001), n.name)
    }

    // The old node leaves (upgraded): the cluster version rises to NEXT on the new nodes.
    void old.cluster.leave()
    await eventually(() => [new1, new2].every((n) => n.cluster.version === NEXT), 'cluster version rises once the old node is removed', 15_000)
  } finally {
    for (const n of nodes) await n.system.terminate()
  }
})

test(`an ${N}-only node and a node that requires ${NEXT} refuse each other, with the typed reason, both ways`, async () => {
  const old = await startMember('old', [])
  await eventually(() => old.cluster.isUp, 'old up')
  const seen: Record<string, VersionMismatch[]> = { old: [], req: [] }
  old.transport.on('versionMismatch', (m) => void seen.old.push(m))
  const req = await startMember('req', [old], { experimental: 'next', minVersion: NEXT })
  req.transport.on('versionMismatch', (m) => void seen.req.push(m))
  try {
    // req's join goes to old: refused; old's gossip never reaches req either.
    await eventually(() => seen.req.some((m) => m.direction === 'outbound') && seen.old.some((m) => m.direction === 'inbound'), 'both sides report the refusal', 15_000)
    const m = seen.req.find((x) => x.direction === 'outbound')!
    assert.is(m.peer, 'old')
    assert.equal(m.local, { min: NEXT, max: NEXT })
    assert.equal(m.remote, { min: N, max: N })
    assert.is(m.error.code, 'PROTOCOL_MISMATCH')
    assert.match(m.error.message, /node 'old'/)
    const o = seen.old.find((x) => x.direction === 'inbound')!
    assert.is(o.peer, 'req')
    assert.equal(o.remote, { min: NEXT, max: NEXT })
    // The other direction: old dials req.
    old.transport.addPeer('req', req.url)
    old.system.remoteRef<CounterP>('req', '/user/counter').tell('add', 1)
    await eventually(() => seen.old.some((x) => x.direction === 'outbound'), 'old dialing req is refused too')
    assert.not.ok(req.cluster.isUp)
    assert.equal(old.cluster.upMembers(), ['old'])
  } finally {
    await req.system.terminate()
    await old.system.terminate()
  }
})

test.run()
