import fc from 'fast-check'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorRef, ActorSystem, MemoryNetwork, defineActor, isTroupeError } from '@troupe/runtime'
import type { Transport } from '@troupe/runtime'
import { Counter } from './remote-helpers.js'
import { FUZZ_SEED, cbor, concat, fuzz, heapUsedBytes, hostileValue, mutatedBytes, mutatedFields, randomBytes } from './fuzz-helpers.js'

// Hostile frames from a connected peer, at the remoting layer: the codec turns
// any bytes into envelopes or a CODEC_ERROR, and a node fed arbitrary and
// mutated frames by a fake peer keeps answering a legitimate ask, keeps its
// prototypes clean and its memory under a bound.

const test = suite('fuzz: remoting envelopes')

/** The victim's actor the fake peer aims at (resumes on failure, so a bad message costs one message). */
const Victim = defineActor({
  name: 'victim',
  initial: () => ({ n: 0 }),
  supervision: { onFailure: 'resume' },
  handlers: {
    put(s, _v: unknown) {
      s.n++
    },
    get: (s) => s.n,
  },
})

const LIVENESS_CAP_MS = 15_000
/** Heap growth allowed over the whole fuzz run (a few thousand hostile frames of at most a few hundred KiB). */
const HEAP_GROWTH_MAX_BYTES = 64 * 1024 * 1024

const path = fc.constantFrom('/user/victim', '/user/nobody', '/system', '', '/user/victim/child')
const uid = fc.oneof(fc.constant(0), fc.nat())
const type = fc.constantFrom('put', 'get', 'nope', '__proto__', 'constructor', 'toString')
const payload = fc.oneof(fc.anything({ maxDepth: 2 }), hostileValue)
const id = fc.nat()

/** Valid envelopes of every kind (refs left out: the peer writes them as tag 40100, which the mutations reach). */
const envelope: fc.Arbitrary<unknown[]> = fc.oneof(
  fc.tuple(fc.constant(1), path, uid, type, payload, fc.constant(null)),
  fc.tuple(fc.constant(2), path, uid, type, payload, fc.constant(null), id),
  fc.tuple(fc.constant(3), id, fc.boolean(), payload),
  fc.tuple(fc.constant(4), path, uid, id),
  fc.tuple(fc.constant(5), id),
  fc.tuple(fc.constant(6), id, fc.oneof(fc.record({ kind: fc.string() }), hostileValue)),
)

const frameOf = (envelopes: unknown[][]): Uint8Array => concat(...envelopes.map((e) => cbor.encode(e)))
const validFrame = fc.array(envelope, { minLength: 1, maxLength: 8 }).map(frameOf)
const refBytes = fc.tuple(fc.oneof(fc.string(), hostileValue), fc.oneof(fc.string(), hostileValue), fc.oneof(fc.nat(), hostileValue)).map((r) =>
  // [1, path, uid, type, payload, <tag 40100 [node, path, uid]>]
  concat(Uint8Array.of(0x86, 0x01), cbor.encode('/user/victim'), cbor.encode(0), cbor.encode('put'), cbor.encode(1), Uint8Array.of(0xd9, 0x9c, 0xa4), cbor.encode(r)),
)

const hostileFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  randomBytes,
  mutatedBytes(validFrame),
  fc.array(mutatedFields(envelope), { minLength: 1, maxLength: 4 }).map(frameOf),
  refBytes,
  hostileValue.map((v) => cbor.encode(v)),
)

test('codec: any bytes decode to values or throw CODEC_ERROR', async () => {
  const system = new ActorSystem({ name: 'solo', transport: new MemoryNetwork().transport() })
  await system.start()
  try {
    await fuzz(
      'decodeSequence',
      fc.property(hostileFrame, (bytes) => {
        try {
          system.codec.decodeSequence(bytes, (v) => {
            if (v instanceof ActorRef) assert.type(v.node, 'string')
          })
        } catch (err) {
          if (isTroupeError(err, 'CODEC_ERROR')) return
          throw new Error(`untyped rejection ${(err as Error)?.name}: ${(err as Error)?.message}`, { cause: err })
        }
      }),
      500,
    )
  } finally {
    await system.terminate()
  }
})

test('a fake peer sending hostile frames: the node rejects them and keeps serving', async () => {
  const net = new MemoryNetwork()
  const a = new ActorSystem({ name: 'a', transport: net.transport(), askTimeoutMs: LIVENESS_CAP_MS })
  const b = new ActorSystem({ name: 'b', transport: net.transport(), askTimeoutMs: LIVENESS_CAP_MS })
  const evil: Transport = net.transport()
  await a.start()
  await b.start()
  await evil.start('evil', { receive() {} })
  b.spawn(Counter, { name: 'c' })
  b.spawn(Victim, { name: 'victim' })
  const uncaught: unknown[] = []
  const onUncaught = (err: unknown) => uncaught.push(err)
  process.on('uncaughtException', onUncaught)
  let rejected = 0
  b.events.on('inboundRejected', () => rejected++)
  const counter = a.remoteRef<{ add(n: number): void; get(): number }>('b', '/user/c')
  const heapBefore = heapUsedBytes()
  let sent = 0
  try {
    await fuzz(
      'inbound',
      fc.asyncProperty(fc.array(hostileFrame, { minLength: 1, maxLength: 8 }), async (frames) => {
        for (const f of frames) evil.send('b', f)
        sent += frames.length
        counter.tell('add', 1)
        await settle()
        assert.equal(uncaught, [], 'the node threw while handling a peer frame')
        assert.is(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was polluted')
      }),
      200,
    )
    // Liveness: the legitimate peer's ask is answered (the cap is the ask timeout, not a timing claim).
    assert.is(await counter.ask('get'), 200)
    const growth = heapUsedBytes() - heapBefore
    console.log(`  fuzz seed ${FUZZ_SEED}: ${sent} hostile frames, ${rejected} rejected, heap growth ${(growth / 1048576).toFixed(1)} MiB (bound ${HEAP_GROWTH_MAX_BYTES / 1048576} MiB)`)
    assert.ok(growth < HEAP_GROWTH_MAX_BYTES, `heap grew by ${growth} bytes`)
  } finally {
    process.off('uncaughtException', onUncaught)
    await evil.stop()
    await a.terminate()
    await b.terminate()
  }
})

/** Lets the memory network's microtasks and the actors' turns run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

test.run()
