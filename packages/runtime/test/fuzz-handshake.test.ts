import fc from 'fast-check'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { FrameType, encodeFrame, isFrameType } from '../src/ws/frames.js'
import {
  HANDSHAKE_MAX_BYTES, HandshakeError, NONCE_BYTES, decodeChallenge, decodeHello, decodeProof, encodeChallenge, encodeHello, encodeProof,
} from '../src/ws/handshake.js'
import { cbor, fuzz, hostileValue, mutatedBytes, mutatedFields, randomBytes } from './fuzz-helpers.js'

// Hostile input to the WebSocket handshake decoders: whatever arrives before a
// peer has proved it holds the secret. Each decoder returns a well-formed
// message or throws HandshakeError (with its close code); nothing else.

const test = suite('fuzz: ws frames and handshake')

const name = fc.string({ minLength: 1, maxLength: 40 })
const incarnation = fc.string({ minLength: 1, maxLength: 64 })
const nonce = fc.uint8Array({ minLength: NONCE_BYTES, maxLength: NONCE_BYTES })
const versions = fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 3 })).map(([min, d]) => ({ min, max: min + d }))
const hello = fc.record({ name, incarnation, nonce, target: name, versions })
const challenge = fc.record({ version: fc.integer({ min: 0, max: 9 }), name, incarnation, nonce, proof: fc.uint8Array({ minLength: 32, maxLength: 32 }), versions })

/** The body after the type byte, as the listener hands it to the decoder. */
const body = (frame: Uint8Array) => frame.subarray(1)
const validHello = hello.map((h) => body(encodeHello(h)))
const validChallenge = challenge.map((c) => body(encodeChallenge(c)))
const validProof = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((p) => body(encodeProof(p)))

const decoders: Array<[string, (b: Uint8Array) => unknown, fc.Arbitrary<Uint8Array>, fc.Arbitrary<unknown[]>]> = [
  ['hello', decodeHello, validHello, hello.map((h) => [h.versions.min, h.name, h.incarnation, h.nonce, h.target, h.versions.max])],
  ['challenge', decodeChallenge, validChallenge, challenge.map((c) => [c.version, c.name, c.incarnation, c.nonce, c.proof, c.versions.min, c.versions.max])],
  ['proof', decodeProof, validProof, fc.uint8Array({ minLength: 32, maxLength: 32 }).map((p) => [p])],
]

/** Decodes, and fails the property on any outcome but a sound message or a HandshakeError. */
function decodesOrRejects(decode: (b: Uint8Array) => unknown, bytes: Uint8Array): void {
  let value: unknown
  try {
    value = decode(bytes)
  } catch (err) {
    if (err instanceof HandshakeError && typeof err.closeCode === 'number') return
    throw new Error(`untyped rejection ${(err as Error)?.name}: ${(err as Error)?.message}`, { cause: err })
  }
  assertSound(value)
}

/** What a decoded handshake message promises its reader. */
function assertSound(v: unknown): void {
  if (v instanceof Uint8Array) return assert.is(v.length, 32)
  const m = v as Record<string, unknown>
  for (const k of ['name', 'incarnation']) assert.ok(typeof m[k] === 'string' && (m[k] as string).length > 0, k)
  assert.ok(m.nonce instanceof Uint8Array && m.nonce.length === NONCE_BYTES, 'nonce')
  assert.ok(Object.getPrototypeOf(m) === Object.prototype)
}

for (const [what, decode, valid, fields] of decoders) {
  test(`${what}: random bytes decode or throw HandshakeError`, async () => {
    await fuzz(`${what} random`, fc.property(randomBytes, (b) => decodesOrRejects(decode, b)))
  })
  test(`${what}: byte mutations of a valid message decode or throw HandshakeError`, async () => {
    await fuzz(`${what} mutated`, fc.property(mutatedBytes(valid), (b) => decodesOrRejects(decode, b)))
  })
  test(`${what}: fields of the wrong type, size or count throw HandshakeError`, async () => {
    await fuzz(`${what} fields`, fc.property(mutatedFields(fields), (f) => decodesOrRejects(decode, cbor.encode(f))))
  })
  test(`${what}: any CBOR value decodes or throws HandshakeError`, async () => {
    await fuzz(`${what} values`, fc.property(hostileValue, (v) => decodesOrRejects(decode, cbor.encode(v))))
  })
}

test('a message over the handshake limit is refused before it is decoded', () => {
  const big = cbor.encode([1, 'x'.repeat(HANDSHAKE_MAX_BYTES), 'i', new Uint8Array(32), 'a'])
  assert.throws(() => decodeHello(big), (e: unknown) => e instanceof HandshakeError)
})

test('frames: every first byte is a known type or not; a frame keeps its body', async () => {
  await fuzz(
    'frame types',
    fc.property(fc.nat({ max: 255 }), fc.uint8Array({ maxLength: 64 }), (t, b) => {
      const known = isFrameType(t)
      assert.is(known, Object.values(FrameType).includes(t as FrameType))
      if (known) assert.equal([...encodeFrame(t, b)], [t, ...b])
    }),
  )
})

test.run()
