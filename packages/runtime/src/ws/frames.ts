/**
 * Every WebSocket message of the transport is binary and starts with one
 * byte naming its type; the rest is the body. Handshake bodies are CBOR
 * arrays (see handshake.ts); a data body is a remoting frame, opaque here.
 */
export const FrameType = {
  /** client → server: version, name, incarnation, nonce, expected server name. */
  Hello: 0x01,
  /** server → client: version, name, incarnation, nonce, server proof. */
  Challenge: 0x02,
  /** client → server: client proof. */
  Proof: 0x03,
  /** server → client: the connection is admitted; data may flow both ways. */
  Accept: 0x04,
  /** Either way, after Accept: one remoting frame. */
  Data: 0x10,
} as const

export type FrameType = (typeof FrameType)[keyof typeof FrameType]

const known = new Set<number>(Object.values(FrameType))

export function isFrameType(byte: number): byte is FrameType {
  return known.has(byte)
}

/** Prefixes `body` with its type byte (one copy; ws then writes header and payload without another). */
export function encodeFrame(type: FrameType, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(body.length + 1)
  out[0] = type
  out.set(body, 1)
  return out
}
