import type { ActorRef } from '../actor-ref.js'
import type { ActorDef } from '../define.js'
import { defineBehavior } from '../define.js'
import { TroupeError } from '../errors.js'

/** Every node with a transport runs this actor; it spawns registered kinds for remote callers. */
export const SPAWNER_PATH = '/system/spawner'
export const SPAWNER_NAME = 'spawner'

export type SpawnerProtocol = { spawn(request: { kind: string; name: string | null }): ActorRef }

/** The spawner of one node: `kinds` are the definitions registered there, `spawn` spawns a top-level actor. */
export function spawnerDef(nodeName: string, kinds: ReadonlyMap<string, ActorDef<any, any>>, spawn: (def: ActorDef<any, any>, name: string | undefined) => ActorRef): ActorDef<SpawnerProtocol, null> {
  return defineBehavior<SpawnerProtocol, null>({
    name: 'spawner',
    initial: () => null,
    supervision: { onFailure: 'resume' },
    receive: (_state, msg, ctx) => {
      const reply = ctx.deferReply<ActorRef>()
      try {
        const { kind, name } = (msg.payload ?? {}) as { kind?: unknown; name?: unknown }
        if (typeof kind !== 'string') throw new TroupeError('INVALID_ARGUMENT', 'spawn needs a kind')
        if (name !== null && typeof name !== 'string') throw new TroupeError('INVALID_ARGUMENT', 'spawn name must be a string')
        const def = kinds.get(kind)
        if (def === undefined) throw new TroupeError('UNKNOWN_ACTOR_KIND', `kind '${kind}' is not registered on ${nodeName}`)
        reply.resolve(spawn(def, name === null ? undefined : name))
      } catch (err) {
        reply.reject(err)
      }
    },
  })
}
