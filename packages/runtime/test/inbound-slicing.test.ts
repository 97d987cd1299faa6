// One frame from a peer cannot hold a node's event loop: a frame of very
// many envelopes is dispatched in slices, and another node's ask is
// answered between them. Order per sender is kept across slices.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, MemoryNetwork, defineActor } from '@troupe/runtime'
import type { Transport } from '@troupe/runtime'
import { Codec } from '../src/remote/codec.js'

const LIVENESS_MS = 15_000

/** The bytes of one frame holding `count` copies of `envelope`. */
function frameOf(envelope: unknown[], count: number): Buffer {
  const one = codec().encode(envelope)
  const frame = Buffer.allocUnsafe(one.length * count)
  for (let i = 0; i < count; i++) frame.set(one, i * one.length)
  return frame
}

function codec(): Codec {
  return new Codec(() => {
    throw new Error('no refs expected')
  })
}

/** A raw node on the network: it sends hand-built frames and ignores what comes back. */
async function rawNode(net: MemoryNetwork, name: string): Promise<Transport> {
  const t = net.transport()
  await t.start(name, { receive() {} })
  return t
}

async function victimAndClient() {
  const net = new MemoryNetwork()
  const victim = new ActorSystem({ name: 'v', transport: net.transport(), askTimeoutMs: LIVENESS_MS })
  const client = new ActorSystem({ name: 'c', transport: net.transport(), askTimeoutMs: LIVENESS_MS })
  await victim.start()
  await client.start()
  return { net, victim, client }
}

test('a legitimate ask is answered while a frame of 300k tells is still being dispatched', async () => {
  const { net, victim, client } = await victimAndClient()
  // 15 bytes each: 4.5 MB, within the default maxInboundFrameBytes (5 MiB).
  const TELLS = 300_000
  // Tells to a path with no actor: each one is a dead letter at the moment it is dispatched.
  let dispatched = 0
  victim.events.on('deadLetter', (d) => {
    if (d.recipient === '/user/n') dispatched++
  })
  victim.spawn(
    defineActor({ name: 'probe', initial: () => ({}), handlers: { dispatched: () => dispatched } }),
    { name: 'probe' },
  )
  const attacker = await rawNode(net, 'x')
  const heapBefore = process.memoryUsage().heapUsed
  attacker.send('v', frameOf([1, '/user/n', 0, 't', 0, null], TELLS))
  const seenByAsk = await client.remoteRef<{ dispatched(): number }>('v', '/user/probe').ask('dispatched', undefined, { timeoutMs: LIVENESS_MS })
  assert.ok(seenByAsk < TELLS, `the ask was answered only after all ${TELLS} tells were dispatched`)
  // The rest of the frame is still dispatched, in full.
  const deadline = Date.now() + LIVENESS_MS
  while (dispatched < TELLS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  assert.is(dispatched, TELLS)
  const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20
  assert.ok(heapGrowthMb < 256, `victim heap grew by ${heapGrowthMb.toFixed(0)} MB`)
  // And it still answers afterwards.
  assert.is(await client.remoteRef<{ dispatched(): number }>('v', '/user/probe').ask('dispatched', undefined, { timeoutMs: LIVENESS_MS }), TELLS)
  await attacker.stop()
  await client.terminate()
  await victim.terminate()
})

test('a sliced frame keeps order per sender; frames from the same peer wait behind it', async () => {
  const { net, victim } = await victimAndClient()
  const seen: number[] = []
  victim.spawn(
    defineActor({
      name: 'log',
      initial: () => ({}),
      mailbox: { capacity: 1_000_000 },
      handlers: {
        n(_s, i: number) {
          seen.push(i)
        },
      },
    }),
    { name: 'log' },
  )
  const attacker = await rawNode(net, 'x')
  const c = codec()
  const N = 20_000
  const parts: Uint8Array[] = []
  for (let i = 0; i < N; i++) parts.push(c.encode([1, '/user/log', 0, 'n', i, null]))
  attacker.send('v', Buffer.concat(parts))
  attacker.send('v', c.encode([1, '/user/log', 0, 'n', N, null]))
  const deadline = Date.now() + LIVENESS_MS
  while (seen.length < N + 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  assert.is(seen.length, N + 1)
  for (let i = 0; i <= N; i++) if (seen[i] !== i) assert.unreachable(`message ${i} arrived as ${seen[i]}`)
  await attacker.stop()
  await victim.terminate()
})

test('frames queued behind a sliced one are bounded by maxInboundQueuedBytes; past it they are dropped and logged', async () => {
  const net = new MemoryNetwork()
  const victim = new ActorSystem({ name: 'v', transport: net.transport(), remoting: { maxInboundQueuedBytes: 2 * 2 ** 20 } })
  await victim.start()
  const rejected: string[] = []
  victim.events.on('inboundRejected', (r) => rejected.push(r.reason))
  let bigDispatched = 0
  victim.events.on('deadLetter', () => bigDispatched++)
  const seen: number[] = []
  victim.spawn(
    defineActor({ name: 'log', initial: () => ({}), mailbox: { capacity: 1_000_000 }, handlers: { n: (_s, i: number) => void seen.push(i) } }),
    { name: 'log' },
  )
  const attacker = await rawNode(net, 'x')
  const c = codec()
  // 1.5 MB: sliced; it counts against the queue until it is dispatched.
  attacker.send('v', frameOf([1, '/user/n', 0, 't', 0, null], 100_000))
  // 1000 small frames, each counted as 1 KiB: about 580 fit in the remaining 0.5 MiB.
  for (let i = 0; i < 1000; i++) attacker.send('v', c.encode([1, '/user/log', 0, 'n', i, null]))
  const deadline = Date.now() + LIVENESS_MS
  const logged = () => rejected.filter((r) => /maxInboundQueuedBytes/.test(r))
  // The big frame is dispatched, then the queued frames one per turn, until nothing more comes.
  while (bigDispatched < 100_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  for (let last = -1; seen.length !== last && Date.now() < deadline; ) {
    last = seen.length
    await new Promise((r) => setTimeout(r, 50))
  }
  assert.ok(seen.length > 0 && seen.length < 1000, `${seen.length} of 1000 queued frames dispatched`)
  assert.equal(seen, Array.from({ length: seen.length }, (_, i) => i), 'the frames kept are the first ones, in order')
  assert.ok(logged().length >= 1 && logged().length <= 3, `${logged().length} log lines`)
  // Once the queue has drained, frames are taken again.
  const before = seen.length
  attacker.send('v', c.encode([1, '/user/log', 0, 'n', 5000, null]))
  while (seen.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  assert.is(seen[seen.length - 1], 5000)
  await attacker.stop()
  await victim.terminate()
})

test('a frame larger than any a sender produces is rejected with a reason', async () => {
  const { net, victim, client } = await victimAndClient()
  const rejected: string[] = []
  victim.events.on('inboundRejected', (r) => rejected.push(r.reason))
  let dispatched = 0
  victim.events.on('deadLetter', () => dispatched++)
  const attacker = await rawNode(net, 'x')
  // 6 MiB: over maxFrameBytes (1 MiB) + maxMessageBytes (4 MiB).
  attacker.send('v', frameOf([1, '/user/n', 0, 't', 0, null], Math.ceil((6 * 2 ** 20) / 15)))
  await new Promise((r) => setTimeout(r, 50))
  assert.is(dispatched, 0)
  assert.ok(rejected.some((r) => /exceeds/.test(r)), rejected.join('\n'))
  victim.spawn(defineActor({ name: 'echo', initial: () => ({}), handlers: { echo: (_s, v: number) => v } }), { name: 'echo' })
  assert.is(await client.remoteRef<{ echo(v: number): number }>('v', '/user/echo').ask('echo', 7), 7)
  await attacker.stop()
  await client.terminate()
  await victim.terminate()
})

test.run()
