import { ActorRef } from '../actor-ref.js'
import type { RefTarget } from '../actor-ref.js'
import { TroupeError } from '../errors.js'
import type { MissingHost } from './missing-target.js'
import { MissingTarget } from './missing-target.js'

/** Resolves refs of a custom address space; undefined for paths it does not own. */
export type RefResolverHook = (node: string, path: string, uid: number) => ActorRef | undefined

/** What the resolver needs from its system. */
export interface ResolverHost extends MissingHost {
  readonly name: string
  /** The live local actor at `path` with that uid (0: any incarnation). */
  localRef(path: string, uid: number): ActorRef | undefined
  /** The target of an actor on another node; null when this system has no transport. */
  remoteTarget(node: string, path: string, uid: number): RefTarget | null
}

/**
 * The one way an address (node, path, uid) becomes a ref on this system, for
 * `remoteRef` and for refs decoded from the wire: custom address spaces
 * (entities) first, then a local actor (or the missing-actor target), then an
 * actor on another node.
 */
export class RefResolver {
  private readonly hooks: RefResolverHook[] = []

  constructor(private readonly host: ResolverHost) {}

  resolve(node: string, path: string, uid: number): ActorRef {
    for (const hook of this.hooks) {
      const ref = hook(node, path, uid)
      if (ref !== undefined) return ref
    }
    const host = this.host
    if (node === host.name) return host.localRef(path, uid) ?? new ActorRef(new MissingTarget(host, node, path, uid))
    const remote = host.remoteTarget(node, path, uid)
    if (remote === null) throw new TroupeError('INVALID_ARGUMENT', `system ${host.name} has no transport; cannot reach node ${node}`)
    return new ActorRef(remote)
  }

  /** Adds a hook consulted before ordinary paths; returns a function that removes it. */
  add(hook: RefResolverHook): () => void {
    this.hooks.push(hook)
    return () => {
      const i = this.hooks.indexOf(hook)
      if (i >= 0) this.hooks.splice(i, 1)
    }
  }
}
