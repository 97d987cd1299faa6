import type { ActorDef } from '../define.js'
import { entityPath } from './entity-ref.js'
import { permitHeld, permitOf } from './activation-guard.js'
import { identityOf } from './entity-id.js'
import { TroupeError } from '../errors.js'

/** The region's in-band stop: queued behind the messages the entity already holds. */
export const STOP_TYPE = '$sharding.stop'
/** Only this object stops an entity; a payload from the wire can never be identical to it. */
export const STOP_TOKEN: object = Object.freeze({ stop: true })

/**
 * The definition a region spawns for a kind: the user's, plus handling of the
 * in-band stop used for passivation and handoff (so every message that reached
 * the entity before the stop is handled first). With `guarded`, a message
 * that finds the entity's permit lost is not handled: it becomes a dead
 * letter (asks fail with ACTIVATION_LOST), since another node may run the
 * entity by now.
 */
export function wrapEntity<S>(def: ActorDef<any, S>, guarded = false): ActorDef<any, S> {
  const receive = def.receive
  return {
    ...def,
    receive(state, msg, ctx) {
      if (msg.type === STOP_TYPE && msg.payload === STOP_TOKEN) {
        ctx.stop()
        return undefined
      }
      if (guarded) {
        const permit = permitOf(ctx.self)
        if (permit === undefined || !permitHeld(permit)) {
          const who = identityOf(ctx.self)
          const path = who === undefined ? ctx.self.path : entityPath(who.kind, who.id)
          ctx.system.deadLetter(path, msg.type, msg.payload, 'activation-lost')
          const reply = ctx.deferReply()
          if (reply.expected) reply.reject(new TroupeError('ACTIVATION_LOST', `${path} lost its activation permit (token ${permit?.token}) before handling '${msg.type}'`))
          return undefined
        }
      }
      return receive(state, msg, ctx)
    },
  }
}
