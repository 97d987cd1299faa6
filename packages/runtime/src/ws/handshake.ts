import { createHmac, timingSafeEqual } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { Encoder } from 'cbor-x'
import { WIRE_VERSION, isVersionRange } from '../wire-version.js'
import type { VersionRange } from '../wire-version.js'
import { CloseCode } from './close-codes.js'
import { FrameType, encodeFrame } from './frames.js'

/**
 * The handshake, as pure encode/decode/prove functions. Four messages:
 *
 *   client → server  Hello     [minC, name, incarnation, nonceC, expectedServerName, maxC, ...]
 *   server → client  Challenge [version, name, incarnation, nonceS, proofS, minS, maxS, ...]
 *   client → server  Proof     [proofC]
 *   server → client  Accept    []
 *
 * Each side says the range of wire versions it speaks; the server answers
 * with the version both will speak, min(maxC, maxS), or 0 when the ranges do
 * not overlap (it then closes with BadVersion, and so does the client once
 * it has checked the proof). Fields after the known ones are ignored, so a
 * later version may append fields; a version-1 Hello (five fields, no max)
 * reads as the range [1, 1].
 *
 * proofS = HMAC-SHA256(secret, "troupe-ws server" ‖ transcript) and proofC
 * the same with "troupe-ws client", where the transcript holds the chosen
 * version, both ranges, and both sides' names, incarnations and nonces,
 * length-prefixed. The secret never crosses the wire; the labels stop a
 * proof from being reflected back, each side's fresh nonce stops an old
 * handshake from being replayed, and the ranges in the transcript stop a
 * man in the middle from forcing an older version.
 */
/** The version this build speaks by default (see wire-version.ts). */
export const PROTOCOL_VERSION = WIRE_VERSION
export const NONCE_BYTES = 32
const PROOF_BYTES = 32
const MAX_NAME_CHARS = 256
const MAX_INCARNATION_CHARS = 64
/** Largest message accepted before the handshake completes (a Hello is ~150 bytes). */
export const HANDSHAKE_MAX_BYTES = 4096

export interface Identity {
  readonly name: string
  /** Random per transport start: tells a restarted node from the old one. */
  readonly incarnation: string
}

export interface Hello extends Identity {
  readonly nonce: Uint8Array
  /** The node the client meant to reach. */
  readonly target: string
  /** The wire versions the client speaks. */
  readonly versions: VersionRange
}

/** The server's half of the transcript. */
export interface ServerSide extends Identity {
  readonly nonce: Uint8Array
  /** The wire versions the server speaks. */
  readonly versions: VersionRange
  /** The version chosen for this connection; 0 when the ranges do not overlap. */
  readonly version: number
}

export interface Challenge extends ServerSide {
  readonly proof: Uint8Array
}

/** A handshake message that must close the connection with `closeCode`. */
export class HandshakeError extends Error {
  constructor(
    readonly closeCode: CloseCode,
    message: string,
  ) {
    super(message)
    this.name = 'HandshakeError'
  }
}

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false })

export function encodeHello(h: Hello): Buffer {
  return encodeFrame(FrameType.Hello, cbor.encode([h.versions.min, h.name, h.incarnation, h.nonce, h.target, h.versions.max]))
}

export function decodeHello(body: Uint8Array): Hello {
  const fields = decodeArray(body, 'hello')
  const min = fields[0]
  if (typeof min !== 'number' || !Number.isInteger(min)) throw malformed('hello has no protocol version')
  if (min < 1) throw new HandshakeError(CloseCode.BadVersion, `protocol version ${min} not supported`)
  if (fields.length < 5) throw malformed(`hello has ${fields.length} fields, expected at least 5`)
  // A version-1 Hello ends here: it speaks exactly version 1.
  const max = fields.length > 5 ? fields[5] : min
  if (!isVersionRange(min, max)) throw malformed('hello has no valid version range')
  const [, name, incarnation, nonce, target] = fields
  return {
    name: nodeName(name, 'hello'),
    incarnation: incarnationId(incarnation),
    nonce: bytes(nonce, NONCE_BYTES, 'nonce'),
    target: nodeName(target, 'hello target'),
    versions: { min, max: max as number },
  }
}

export function encodeChallenge(c: Challenge): Buffer {
  return encodeFrame(FrameType.Challenge, cbor.encode([c.version, c.name, c.incarnation, c.nonce, c.proof, c.versions.min, c.versions.max]))
}

export function decodeChallenge(body: Uint8Array): Challenge {
  const fields = decodeArray(body, 'challenge')
  const [version, name, incarnation, nonce, proof, min, max] = fields
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) throw malformed('challenge has no protocol version')
  if (fields.length < 7) throw malformed(`challenge has ${fields.length} fields, expected at least 7`)
  if (!isVersionRange(min, max)) throw malformed('challenge has no valid version range')
  return {
    version,
    name: nodeName(name, 'challenge'),
    incarnation: incarnationId(incarnation),
    nonce: bytes(nonce, NONCE_BYTES, 'nonce'),
    proof: bytes(proof, PROOF_BYTES, 'proof'),
    versions: { min: min as number, max: max as number },
  }
}

export function encodeProof(proof: Uint8Array): Buffer {
  return encodeFrame(FrameType.Proof, cbor.encode([proof]))
}

export function decodeProof(body: Uint8Array): Uint8Array {
  const fields = decodeArray(body, 'proof')
  if (fields.length !== 1) throw malformed('proof has the wrong number of fields')
  return bytes(fields[0], PROOF_BYTES, 'proof')
}

export function encodeAccept(): Buffer {
  return encodeFrame(FrameType.Accept, cbor.encode([]))
}

/** The server's proof that it knows the secret, over the whole transcript. */
export function serverProof(key: KeyObject, client: Hello, server: ServerSide): Buffer {
  return prove(key, 'troupe-ws server', client, server)
}

/** The client's proof, over the same transcript with another label. */
export function clientProof(key: KeyObject, client: Hello, server: ServerSide): Buffer {
  return prove(key, 'troupe-ws client', client, server)
}

/** Constant-time comparison of a received proof with the expected one. */
export function proofMatches(expected: Uint8Array, received: Uint8Array): boolean {
  return expected.length === received.length && timingSafeEqual(expected, received)
}

function prove(key: KeyObject, label: string, client: Hello, server: ServerSide): Buffer {
  const hmac = createHmac('sha256', key)
  const versions = `${server.version} ${client.versions.min}-${client.versions.max} ${server.versions.min}-${server.versions.max}`
  for (const part of [label, versions, client.name, client.incarnation, client.nonce, server.name, server.incarnation, server.nonce]) {
    const buf = typeof part === 'string' ? Buffer.from(part) : part
    const len = Buffer.allocUnsafe(4)
    len.writeUInt32BE(buf.length)
    hmac.update(len)
    hmac.update(buf)
  }
  return hmac.digest()
}

function decodeArray(body: Uint8Array, what: string): unknown[] {
  if (body.length > HANDSHAKE_MAX_BYTES) throw malformed(`${what} of ${body.length} bytes is too large`)
  let value: unknown
  try {
    value = cbor.decode(body)
  } catch {
    throw malformed(`${what} is not valid CBOR`)
  }
  if (!Array.isArray(value)) throw malformed(`${what} is not an array`)
  return value
}

function nodeName(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_NAME_CHARS) throw malformed(`${what} has no valid node name`)
  return v
}

function incarnationId(v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_INCARNATION_CHARS) throw malformed('no valid incarnation')
  return v
}

function bytes(v: unknown, length: number, what: string): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== length) throw malformed(`${what} must be ${length} bytes`)
  return v
}

function malformed(message: string): HandshakeError {
  return new HandshakeError(CloseCode.ProtocolError, message)
}
