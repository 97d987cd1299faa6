import type { WebSocket } from 'ws'

/**
 * Changes the largest message a socket will accept. Until the handshake
 * completes a peer is a stranger, so its messages are held to a few KiB; ws
 * only takes `maxPayload` per server, so this reaches into the receiver (ws
 * 8: `_receiver._maxPayload`, read on every frame header). When that field is
 * not there (another ws version) nothing changes and the configured
 * `maxPayloadBytes` applies from the start. Returns whether it applied.
 */
export function setReceiveLimit(ws: WebSocket, maxBytes: number): boolean {
  const receiver = (ws as unknown as { _receiver?: { _maxPayload?: unknown } })._receiver
  if (receiver === undefined || typeof receiver._maxPayload !== 'number') return false
  receiver._maxPayload = maxBytes
  return true
}
