import { ActorRef } from '../actor-ref.js'
import type { RefTarget } from '../actor-ref.js'
import type { ReplyTarget } from '../internal/envelope.js'
import type { RefResolver } from '../remote/codec.js'
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
    private readonly askTimeoutMs: number,
    readonly kind: string,
    readonly id: string,
  ) {}

  get path(): string {
    return entityPath(this.kind, this.id)
  }

  deliver(type: string, payload: unknown, sender: ActorRef | null, reply: ReplyTarget | null): void {
    const timeoutMs = reply === null ? 0 : reply instanceof EntityAsk ? reply.timeoutMs : this.askTimeoutMs
    const msg: RouteMsg = [this.kind, this.id, type, payload, 0, timeoutMs]
    this.region.deliver('route', msg, sender, reply)
  }

  pendingAsk(timeoutMs: number | undefined, type: string, resolve: (v: unknown) => void, reject: (e: unknown) => void): ReplyTarget {
    const inner = this.region.pendingAsk(timeoutMs, `${type}' to entity '${this.kind}/${this.id}`, resolve, reject)
    return new EntityAsk(inner, timeoutMs ?? this.askTimeoutMs)
  }
}

/** A pending ask to an entity that remembers its timeout, so hops across nodes can use the same one. */
class EntityAsk implements ReplyTarget {
  constructor(
    private readonly inner: ReplyTarget,
    readonly timeoutMs: number,
  ) {}

  resolve(value: unknown): void {
    this.inner.resolve(value)
  }

  reject(error: unknown): void {
    this.inner.reject(error)
  }
}

/**
 * Makes refs under /entity/ decode as entity refs on this system.
 *
 * Interim: it wraps the resolver of the system's codec. The runtime should
 * offer this as a hook (`ActorSystem.registerRefResolver(prefix, fn)`,
 * consulted by the codec's resolver and `remoteRef`); then this goes.
 * Returns a function that removes it.
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
