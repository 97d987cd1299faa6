/**
 * WebSocket close codes the transport uses (the 4000–4999 range is for
 * applications). Each closed connection is logged with its code and a reason
 * string; the same code reaches the other side in the close frame.
 */
export const CloseCode = {
  /** The transport is stopping (standard "going away"). */
  Shutdown: 1001,
  /** ws closes with this itself when a message exceeds `maxPayload`. */
  MessageTooBig: 1009,
  /** A stranger's connection evicted while still unauthenticated, to make room for a newer one (standard "try again later"). */
  TryAgainLater: 1013,
  /** A handshake message was malformed or came at the wrong time. */
  ProtocolError: 4000,
  /** The peer speaks another protocol version. */
  BadVersion: 4001,
  /** The peer's HMAC proof did not match: wrong cluster secret (or forged). */
  AuthFailed: 4002,
  /** The handshake did not finish within `handshakeTimeoutMs`. */
  HandshakeTimeout: 4003,
  /** The first byte of a message names no frame type (or a text message came). */
  UnknownFrameType: 4004,
  /** A data frame arrived before the handshake completed. */
  FrameBeforeHandshake: 4005,
  /** Both nodes connected at once; the other connection of the pair won. */
  Duplicate: 4006,
  /** A newer connection (or a new incarnation) of the same peer replaced this one. */
  Replaced: 4007,
  /** The peer is not the node this address was dialed for, or claims our own name. */
  WrongPeer: 4008,
  /** Nothing heard from the peer for `keepAlive.timeoutMs`. */
  KeepAliveTimeout: 4009,
} as const

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

const names = new Map<number, string>(Object.entries(CloseCode).map(([k, v]) => [v, k]))

/** A readable name for a close code, including ones ws or the peer chose. */
export function closeCodeName(code: number): string {
  return names.get(code) ?? (code === 1000 ? 'Normal' : code === 1006 ? 'Abnormal' : `code ${code}`)
}

/** Close reasons are limited to 123 bytes by the WebSocket protocol. */
export function clampReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason
  let out = reason.slice(0, 120)
  while (Buffer.byteLength(out) > 120) out = out.slice(0, -1)
  return `${out}...`
}
