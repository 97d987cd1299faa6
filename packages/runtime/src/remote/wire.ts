import type { ActorRef } from '../actor-ref.js'

/**
 * Envelope kinds on the wire. A frame is a CBOR sequence of envelopes, each a
 * short array whose first element is the kind. Fields after the ones listed
 * are ignored (a later wire version may append some), and an unknown kind is
 * rejected and logged without breaking the connection.
 */
export { WIRE_VERSION } from '../wire-version.js'

export const Kind = {
  Tell: 1, // [1, toPath, toUid, type, payload, sender | null]
  Ask: 2, // [2, toPath, toUid, type, payload, sender | null, askId]
  Reply: 3, // [3, askId, ok, value | error]
  Watch: 4, // [4, targetPath, targetUid, watchId]
  Unwatch: 5, // [5, watchId]
  Terminated: 6, // [6, watchId, reason]
} as const

export type WireEnvelope =
  | [typeof Kind.Tell, string, number, string, unknown, ActorRef | null]
  | [typeof Kind.Ask, string, number, string, unknown, ActorRef | null, number]
  | [typeof Kind.Reply, number, boolean, unknown]
  | [typeof Kind.Watch, string, number, number]
  | [typeof Kind.Unwatch, number]
  | [typeof Kind.Terminated, number, WireStopReason]

/** A stop reason as it crosses the wire (errors flattened). */
export type WireStopReason = { kind: string; error?: WireError; node?: string }

export interface WireError {
  code?: string
  name: string
  message: string
}
