// What a node does with input from a newer peer: fields after the known ones
// (envelopes, gossip records) are ignored; an unknown envelope kind or daemon
// message type is a logged rejection, and the connection keeps serving.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, MemoryNetwork, defineActor } from '@troupe/runtime'
import type { ActorRef } from '@troupe/runtime'
import { membershipFromWire, membershipToWire } from '../src/cluster/membership-wire.js'
import { DAEMON_PATH } from '../src/cluster/messages.js'
import { Kind } from '../src/remote/wire.js'
import { Counter } from './remote-helpers.js'
import { TestCluster } from './cluster-helpers.js'
import { eventually, startNode } from './ws-helpers.js'

const test = suite('wire tolerance')

/** Several CBOR items as one frame (a CBOR sequence). */
function frame(system: ActorSystem, ...envelopes: unknown[]): Uint8Array {
  return Buffer.concat(envelopes.map((e) => system.codec.encode(e)))
}

test('every envelope kind with trailing fields from a later version works as without them', async () => {
  const net = new MemoryNetwork()
  const a = new ActorSystem({ name: 'a', transport: net.transport(), askTimeoutMs: 5000 })
  const b = new ActorSystem({ name: 'b', transport: net.transport(), askTimeoutMs: 5000 })
  await a.start()
  await b.start()
  const rejected: string[] = []
  for (const s of [a, b]) s.events.on('inboundRejected', (r) => void rejected.push(r.reason))
  const extra = ['trace-7f3a', { future: true }, 42]
  try {
    const counter = b.spawn(Counter, { name: 'c' })
    // Tell, Watch, Unwatch and Ask with trailing fields, into b's inbound as from a.
    const sentByB = capture(b)
    inboundOf(b).receive('a', frame(b, [Kind.Tell, '/user/c', 0, 'add', 5, null, ...extra], [Kind.Watch, '/user/c', 0, 901, ...extra], [Kind.Unwatch, 901, ...extra]))
    inboundOf(b).receive('a', frame(b, [Kind.Ask, '/user/c', 0, 'get', null, null, 7, ...extra]))
    await eventually(() => sentByB.some((e) => e[0] === Kind.Reply && e[1] === 7), 'b answers the ask')
    assert.equal(sentByB.find((e) => e[1] === 7)!.slice(0, 4), [Kind.Reply, 7, true, 5])
    assert.is(await counter.ask('get'), 5)

    // Reply and Terminated with trailing fields, into a's inbound as from b (b itself cut off).
    net.partition('a', 'b')
    const sentByA = capture(a)
    const signals: string[] = []
    const Watcher = defineActor({
      initial: () => null,
      handlers: { watch: (_s, ref: ActorRef, ctx) => void ctx.watch(ref) },
      onSignal: (_s, sig) => void signals.push(sig.type),
    })
    a.spawn(Watcher, { name: 'w' }).tell('watch', a.remoteRef('b', '/user/c'))
    const pending = a.remoteRef<{ get(): number }>('b', '/user/c').ask('get')
    await eventually(() => sentByA.some((e) => e[0] === Kind.Ask) && sentByA.some((e) => e[0] === Kind.Watch), 'a sends the ask and the watch')
    const askId = sentByA.find((e) => e[0] === Kind.Ask)![6]
    const watchId = sentByA.find((e) => e[0] === Kind.Watch)![3]
    inboundOf(a).receive('b', frame(a, [Kind.Reply, askId, true, 'from the future', ...extra], [Kind.Terminated, watchId, { kind: 'stopped' }, ...extra]))
    assert.is(await pending, 'from the future')
    await eventually(() => signals.length > 0, 'the watcher gets Terminated')
    assert.equal(signals, ['terminated'])
    assert.equal(rejected, [])
  } finally {
    await a.terminate()
    await b.terminate()
  }
})

function inboundOf(system: ActorSystem): { receive(from: string, f: Uint8Array): void } {
  return (system as any).remoting.inbound
}

/** Records every envelope the system's remoting sends from now on. */
function capture(system: ActorSystem): unknown[][] {
  const sent: unknown[][] = []
  const outbox = (system as any).remoting.outbox
  const enqueue = outbox.enqueue.bind(outbox)
  outbox.enqueue = (to: string, e: unknown[]) => {
    sent.push(e)
    enqueue(to, e)
  }
  return sent
}

test('an unknown envelope kind over a real WebSocket: one logged rejection, the rest of the frame and the connection keep working', async () => {
  const a = await startNode('a')
  const b = await startNode('b')
  a.transport.addPeer('b', b.url)
  const rejected: string[] = []
  b.system.events.on('inboundRejected', (r) => void rejected.push(`${r.from}: ${r.reason}`))
  try {
    b.system.spawn(Counter, { name: 'c' })
    assert.is(await a.system.remoteRef<{ get(): number }>('b', '/user/c').ask('get'), 0)
    a.transport.send('b', frame(a.system, [99, 'a message kind of a later version', { x: 1 }], [Kind.Tell, '/user/c', 0, 'add', 3, null]))
    await eventually(() => rejected.length > 0, 'the unknown kind is rejected')
    assert.match(rejected[0], /^a: unknown envelope kind 99/)
    assert.is(await a.system.remoteRef<{ get(): number }>('b', '/user/c').ask('get'), 3)
    assert.is(b.transport.stats().open, 1)
    assert.not.ok(b.sink.find((e) => e.event === 'connection-closed' || e.event === 'connection-lost'))
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
})

test('gossip records with trailing fields parse as without them', () => {
  const wire = {
    m: [['a', 'ws://a', 5, 'up', 'app-1.2.3', ['r'], { k: 'v' }, 2, 3, 'field of a later version', [1, 2]], ['b', 'ws://b', 4, 'up', 'later']],
    t: [['g', 3, 1000, 'later']],
    r: [['a', 5, 1, [['b', 4, 'later']], 'later']],
    s: ['a'],
    future: { key: 'of a later version' },
  }
  const state = membershipFromWire(wire)
  assert.is(state.get('a')?.status, 'up')
  assert.is(state.get('a')?.incarnation, 5)
  assert.is(state.tombstoneOf('g')?.incarnation, 3)
  assert.equal(state.reachability.list()[0].unreachable, [{ node: 'b', incarnation: 4 }])
  // Short records are still malformed.
  assert.throws(() => membershipFromWire({ ...wire, m: [['a', 'ws://a', 5]] }), /member is not/)
  assert.throws(() => membershipFromWire({ ...wire, t: [['g', 3]] }), /tombstone is not/)
  assert.is(membershipToWire(state).m.length, 2)
})

test('a daemon message type of a later version is a dead letter (unknown-message); the cluster stays up', async () => {
  const c = new TestCluster()
  await c.startAll(['a', 'b'])
  const a = c.node('a').system
  const dead: string[] = []
  const failed: string[] = []
  a.events.on('deadLetter', (d) => void dead.push(`${d.type}:${d.reason}`))
  a.events.on('actorFailed', (f) => void failed.push(String(f.error)))
  c.node('b').system.remoteRef<Record<string, (p: unknown) => void>>('a', DAEMON_PATH).tell('gossipV9' as never, { from: 'b', extra: 1 } as never)
  await c.run(200)
  assert.ok(dead.includes('gossipV9:unknown-message'), dead.join(', '))
  assert.equal(failed, [])
  assert.ok(c.allUp(['a', 'b']), c.describe())
  await c.terminateAll()
})

test.run()
