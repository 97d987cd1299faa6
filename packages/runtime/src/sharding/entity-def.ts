import type { ActorDef } from '../define.js'

/** The region's in-band stop: queued behind the messages the entity already holds. */
export const STOP_TYPE = '$sharding.stop'
/** Only this object stops an entity; a payload from the wire can never be identical to it. */
export const STOP_TOKEN: object = Object.freeze({ stop: true })

/**
 * The definition a region spawns for a kind: the user's, plus handling of the
 * in-band stop used for passivation and handoff (so every message that reached
 * the entity before the stop is handled first).
 */
export function wrapEntity<S>(def: ActorDef<any, S>): ActorDef<any, S> {
  const receive = def.receive
  return {
    ...def,
    receive(state, msg, ctx) {
      if (msg.type === STOP_TYPE && msg.payload === STOP_TOKEN) {
        ctx.stop()
        return undefined
      }
      return receive(state, msg, ctx)
    },
  }
}
