// The work one peer can queue on a node is bounded: watches it holds and
// asks it has being answered. Past a bound the peer gets a typed refusal
// (Terminated failed WATCH_REFUSED, an ask error BACKPRESSURE), the refusals
// are logged a few times, not once each, and other peers are still served.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, MemoryNetwork, defineActor } from '@troupe/runtime'
import type { RemotingOptions, Transport } from '@troupe/runtime'
import { Codec } from '../src/remote/codec.js'

const LIVENESS_MS = 15_000

const codec = new Codec(() => {
  throw new Error('no refs expected')
})

/** A raw node: sends hand-built frames and collects every envelope that comes back. */
async function rawNode(net: MemoryNetwork, name: string): Promise<{ t: Transport; got: unknown[][] }> {
  const got: unknown[][] = []
  const t = net.transport()
  await t.start(name, {
    receive(_from, frame) {
      codec.decodeSequence(frame, (e) => got.push(e as unknown[]))
    },
  })
  return { t, got }
}

async function victimAndClient(remoting: RemotingOptions = {}) {
  const net = new MemoryNetwork()
  const victim = new ActorSystem({ name: 'v', transport: net.transport(), askTimeoutMs: LIVENESS_MS, remoting })
  const client = new ActorSystem({ name: 'c', transport: net.transport(), askTimeoutMs: LIVENESS_MS })
  await victim.start()
  await client.start()
  const rejected: string[] = []
  victim.events.on('inboundRejected', (r) => rejected.push(r.reason))
  return { net, victim, client, rejected }
}

async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + LIVENESS_MS
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  assert.ok(cond(), 'not reached within the liveness cap')
}

const Target = defineActor({ name: 'target', initial: () => ({}), handlers: { ping: () => 'pong' } })

test('200k watches in one frame: a client is served meanwhile, and watches past maxWatchesPerPeer are refused with WATCH_REFUSED', async () => {
  const { net, victim, client, rejected } = await victimAndClient()
  const target = victim.spawn(Target, { name: 't' })
  const watch = (victim as any).remoting.watch as { watchedBy: Map<string, unknown> }
  victim.spawn(defineActor({ name: 'probe', initial: () => ({}), handlers: { held: () => watch.watchedBy.size } }), { name: 'probe' })
  const { t: attacker, got } = await rawNode(net, 'x')
  const WATCHES = 200_000
  const LIMIT = 65_536 // the default maxWatchesPerPeer
  const parts: Uint8Array[] = []
  for (let id = 1; id <= WATCHES; id++) parts.push(codec.encode([4, '/user/t', 0, id]))
  const heapBefore = process.memoryUsage().heapUsed
  attacker.send('v', Buffer.concat(parts))
  const heldWhenAsked = await client.remoteRef<{ held(): number }>('v', '/user/probe').ask('held', undefined, { timeoutMs: LIVENESS_MS })
  assert.ok(heldWhenAsked < LIMIT, `the ask was answered only after ${heldWhenAsked} watches were placed`)

  const refusals = () => got.filter((e) => e[0] === 6 && (e[2] as any)?.kind === 'failed' && (e[2] as any).error?.code === 'WATCH_REFUSED').length
  await until(() => refusals() === WATCHES - LIMIT)
  assert.is(watch.watchedBy.size, LIMIT)
  const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20
  assert.ok(heapGrowthMb < 256, `victim heap grew by ${heapGrowthMb.toFixed(0)} MB`)
  // Logged, but not once per refusal.
  const logged = rejected.filter((r) => /maxWatchesPerPeer/.test(r))
  assert.ok(logged.length >= 1 && logged.length <= 20, `${logged.length} log lines`)

  // The watches that were accepted are real: stopping the target tells each once.
  got.length = 0
  victim.stop(target)
  await until(() => got.filter((e) => e[0] === 6).length === LIMIT)
  assert.is(watch.watchedBy.size, 0)
  // A refused watcher's side sees a typed reason.
  await attacker.stop()
  await client.terminate()
  await victim.terminate()
})

test('asks in flight from one peer past maxAsksInFlightPerPeer are answered BACKPRESSURE; other peers are still served', async () => {
  const { net, victim, client, rejected } = await victimAndClient({ maxAsksInFlightPerPeer: 1000, askSlotHoldMs: 200 })
  victim.spawn(
    defineActor({
      name: 'hold',
      initial: () => ({}),
      handlers: {
        hold(_s, _p: number, ctx) {
          ctx.deferReply() // never answered
        },
      },
    }),
    { name: 'hold' },
  )
  victim.spawn(defineActor({ name: 'echo', initial: () => ({}), handlers: { echo: (_s, v: number) => v } }), { name: 'echo' })
  const { t: attacker, got } = await rawNode(net, 'x')
  const parts: Uint8Array[] = []
  for (let id = 1; id <= 1500; id++) parts.push(codec.encode([2, '/user/hold', 0, 'hold', id, null, id]))
  attacker.send('v', Buffer.concat(parts))
  const replies = () => got.filter((e) => e[0] === 3)
  await until(() => replies().length === 500)
  for (const [, askId, ok, error] of replies()) {
    assert.is(ok, false)
    assert.is((error as { code: string }).code, 'BACKPRESSURE')
    assert.ok((askId as number) > 1000, `ask ${String(askId)} was refused though a slot was free`)
  }
  assert.ok(rejected.filter((r) => /maxAsksInFlightPerPeer/.test(r)).length <= 2)
  // Another peer is not limited by x's asks.
  assert.is(await client.remoteRef<{ echo(v: number): number }>('v', '/user/echo').ask('echo', 5), 5)
  // Slots held past askSlotHoldMs are given up to new asks.
  await new Promise((r) => setTimeout(r, 300))
  got.length = 0
  attacker.send('v', codec.encode([2, '/user/echo', 0, 'echo', 9, null, 5000]))
  await until(() => replies().length === 1)
  assert.equal(replies()[0], [3, 5000, true, 9])
  await attacker.stop()
  await client.terminate()
  await victim.terminate()
})

test('a slot is freed when its ask is answered: a well-behaved peer is never refused', async () => {
  const { victim, client } = await victimAndClient({ maxAsksInFlightPerPeer: 10 })
  victim.spawn(defineActor({ name: 'echo', initial: () => ({}), handlers: { echo: (_s, v: number) => v } }), { name: 'echo' })
  const echo = client.remoteRef<{ echo(v: number): number }>('v', '/user/echo')
  for (let round = 0; round < 20; round++) {
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => echo.ask('echo', i)))
    assert.equal(answers, Array.from({ length: 10 }, (_, i) => i))
  }
  await client.terminate()
  await victim.terminate()
})

test('bad remoting limits are refused at construction', () => {
  const net = new MemoryNetwork()
  assert.throws(() => new ActorSystem({ name: 'v', transport: net.transport(), remoting: { maxWatchesPerPeer: 0 } }), /maxWatchesPerPeer/)
  assert.throws(() => new ActorSystem({ name: 'v', transport: net.transport(), remoting: { inboundSliceEnvelopes: -1 } }), /inboundSliceEnvelopes/)
})

test.run()
