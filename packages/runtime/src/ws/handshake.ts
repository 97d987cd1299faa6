import { createHmac, timingSafeEqual } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { Encoder } from 'cbor-x'
import { CloseCode } from './close-codes.js'
import { FrameType, encodeFrame } from './frames.js'

/**
 * The handshake, as pure encode/decode/prove functions. Four messages:
 *
 *   client → server  Hello     [version, name, incarnation, nonceC, expectedServerName]
 *   server → client  Challenge [version, name, incarnation, nonceS, proofS]
 *   client → server  Proof     [proofC]
 *   server → client  Accept    []
 *
 * proofS = HMAC-SHA256(secret, "troupe-ws server" ‖ transcript) and proofC
 * the same with "troupe-ws client", where the transcript holds the version
 * and both sides' names, incarnations and nonces, length-prefixed. The secret
 * never crosses the wire; the labels stop a proof from being reflected back,
 * and each side's fresh nonce stops an old handshake from being replayed.
 */
export const PROTOCOL_VERSION = 1
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
}

export interface Challenge extends Identity {
  readonly nonce: Uint8Array
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
  return encodeFrame(FrameType.Hello, cbor.encode([PROTOCOL_VERSION, h.name, h.incarnation, h.nonce, h.target]))
}

export function decodeHello(body: Uint8Array): Hello {
  const [name, incarnation, nonce, target] = versioned(body, 5, 'hello')
  return { name: nodeName(name, 'hello'), incarnation: incarnationId(incarnation), nonce: bytes(nonce, NONCE_BYTES, 'nonce'), target: nodeName(target, 'hello target') }
}

export function encodeChallenge(c: Challenge): Buffer {
  return encodeFrame(FrameType.Challenge, cbor.encode([PROTOCOL_VERSION, c.name, c.incarnation, c.nonce, c.proof]))
}

export function decodeChallenge(body: Uint8Array): Challenge {
  const [name, incarnation, nonce, proof] = versioned(body, 5, 'challenge')
  return { name: nodeName(name, 'challenge'), incarnation: incarnationId(incarnation), nonce: bytes(nonce, NONCE_BYTES, 'nonce'), proof: bytes(proof, PROOF_BYTES, 'proof') }
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
export function serverProof(key: KeyObject, client: Hello, server: Identity & { nonce: Uint8Array }): Buffer {
  return prove(key, 'troupe-ws server', client, server)
}

/** The client's proof, over the same transcript with another label. */
export function clientProof(key: KeyObject, client: Hello, server: Identity & { nonce: Uint8Array }): Buffer {
  return prove(key, 'troupe-ws client', client, server)
}

/** Constant-time comparison of a received proof with the expected one. */
export function proofMatches(expected: Uint8Array, received: Uint8Array): boolean {
  return expected.length === received.length && timingSafeEqual(expected, received)
}

function prove(key: KeyObject, label: string, client: Hello, server: Identity & { nonce: Uint8Array }): Buffer {
  const hmac = createHmac('sha256', key)
  for (const part of [label, String(PROTOCOL_VERSION), client.name, client.incarnation, client.nonce, server.name, server.incarnation, server.nonce]) {
    const buf = typeof part === 'string' ? Buffer.from(part) : part
    const len = Buffer.allocUnsafe(4)
    len.writeUInt32BE(buf.length)
    hmac.update(len)
    hmac.update(buf)
  }
  return hmac.digest()
}

/** Decodes a handshake array whose first field is the version; checks the version before anything else. */
function versioned(body: Uint8Array, length: number, what: string): unknown[] {
  const fields = decodeArray(body, what)
  const version = fields[0]
  if (typeof version !== 'number' || !Number.isInteger(version)) throw malformed(`${what} has no protocol version`)
  if (version !== PROTOCOL_VERSION) {
    throw new HandshakeError(CloseCode.BadVersion, `protocol version ${version} not supported (this node speaks ${PROTOCOL_VERSION})`)
  }
  if (fields.length !== length) throw malformed(`${what} has ${fields.length} fields, expected ${length}`)
  return fields.slice(1)
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
