import { ActorRef } from '../actor-ref.js'
import type { RefTarget, Watcher } from '../actor-ref.js'
import type { Asks } from '../internal/asks.js'
import type { ReplyTarget } from '../internal/envelope.js'
import type { ActorSystem } from '../system.js'
import { isValidEntityId } from './entity-id.js'

/** Refs to entities travel as ordinary refs whose path starts here. */
export const ENTITY_PATH_ROOT = '/entity/'

/** What a routed message carries: [kind, id, type, payload, hops, timeoutMs] (timeoutMs 0 for a tell). */
export type RouteMsg = [kind: string, id: string, type: string, payload: unknown, hops: number, timeoutMs: number]

export function entityPath(kind: string, id: string): string {
  return `${ENTITY_PATH_ROOT}${encodeURIComponent(kind)}/${encodeURIComponent(id)}`
}

export function parseEntityPath(path: string): { kind: string; id: string } | undefined {
  if (!path.startsWith(ENTITY_PATH_ROOT)) return undefined
  const rest = path.slice(ENTITY_PATH_ROOT.length)
  const slash = rest.indexOf('/')
  if (slash <= 0) return undefined
  try {
    const kind = decodeURIComponent(rest.slice(0, slash))
    const id = decodeURIComponent(rest.slice(slash + 1))
    return isValidEntityId(id) ? { kind, id } : undefined
  } catch {
    return undefined
  }
}

/**
 * The target of a ref to an entity: not bound to any node. Every message goes
 * to this node's shard region, which routes it to wherever the entity lives
 * now, so the ref keeps working across handoffs and crashes. Its address is
 * `(node '', path /entity/<kind>/<id>, uid 0)`; on the wire it is a plain ref
 * that the receiving node's sharding turns back into an entity ref.
 */
export class EntityTarget implements RefTarget {
  readonly node = ''
  readonly uid = 0

  constructor(
    private readonly region: RefTarget,
    private readonly asks: Asks,
    readonly kind: string,
    readonly id: string,
  ) {}

  get path(): string {
    return entityPath(this.kind, this.id)
  }

  get address(): string {
    return `entity '${this.kind}/${this.id}'`
  }

  deliver(type: string, payload: unknown, sender: ActorRef | null, reply: ReplyTarget | null): void {
    const msg: RouteMsg = [this.kind, this.id, type, payload, 0, reply === null ? 0 : this.asks.defaultTimeoutMs]
    this.region.deliver('route', msg, sender, reply)
  }

  /** The ask is the region's to route; its timeout travels with it, so hops across nodes keep the same deadline. */
  ask(type: string, payload: unknown, sender: ActorRef | null, timeoutMs: number | undefined, resolve: (v: unknown) => void, reject: (e: unknown) => void): void {
    // Named as the region's ask of `type` to the entity (the wording of its timeout error).
    const ask = this.asks.start(this.region, `${type}' to entity '${this.kind}/${this.id}`, timeoutMs, resolve, reject)
    const msg: RouteMsg = [this.kind, this.id, type, payload, 0, ask.timeoutMs]
    this.region.deliver('route', msg, sender, ask)
  }

  /** An entity is never watched (it moves and passivates): the watcher hears not-found at once. */
  addWatcher(watcher: Watcher, ref: ActorRef): void {
    watcher.notifyTerminated(ref, { kind: 'not-found' })
  }

  removeWatcher(): void {}
}

/**
 * Makes refs under /entity/ resolve as entity refs on this system (those
 * decoded from the wire and those from `remoteRef`). Returns a function that
 * removes it.
 */
export function installEntityRefResolver(system: ActorSystem, resolve: (kind: string, id: string) => ActorRef | undefined): () => void {
  return system.registerRefResolver((_node, path) => {
    if (!path.startsWith(ENTITY_PATH_ROOT)) return undefined
    const parsed = parseEntityPath(path)
    return parsed ? resolve(parsed.kind, parsed.id) : undefined
  })
}

export function entityRef<P extends object>(target: EntityTarget): ActorRef<P> {
  return new ActorRef<P>(target)
}
