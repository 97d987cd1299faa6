import type { ActorContext } from '../context.js'
import type { ActorDef } from '../define.js'
import { TroupeError } from '../errors.js'
import type { ActorRef } from '../actor-ref.js'

/** Longest entity id, in UTF-16 code units. */
export const MAX_ENTITY_ID_LENGTH = 256

const KIND_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Who an entity actor is; set before its `initial` runs. */
export interface EntityIdentity {
  readonly kind: string
  readonly id: string
}

const identities = new WeakMap<ActorRef<any>, EntityIdentity>()

/** @internal */
export function rememberIdentity(ref: ActorRef<any>, identity: EntityIdentity): void {
  identities.set(ref, identity)
}

/** @internal */
export function identityOf(ref: ActorRef<any>): EntityIdentity | undefined {
  return identities.get(ref)
}

/**
 * The id of the entity running in `ctx` (use it in `initial`, handlers or
 * hooks). Throws INVALID_ARGUMENT when the actor is not a sharded entity.
 */
export function entityId(ctx: ActorContext<any>): string {
  const identity = identities.get(ctx.self)
  if (identity === undefined) throw new TroupeError('INVALID_ARGUMENT', `${ctx.self.path} is not a sharded entity`)
  return identity.id
}

export function isValidEntityId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ENTITY_ID_LENGTH && !LONE_SURROGATE.test(id)
}

export function checkEntityId(id: unknown): string {
  if (isValidEntityId(id)) return id
  const shown = typeof id === 'string' ? JSON.stringify(id.length > 40 ? `${id.slice(0, 40)}…` : id) : typeof id
  throw new TroupeError('INVALID_ENTITY_ID', `invalid entity id ${shown}: a well-formed string of 1-${MAX_ENTITY_ID_LENGTH} characters`)
}

export function checkKindName(def: ActorDef<any, any>): string {
  const kind = (def as { kind?: unknown } | null)?.kind
  if (typeof kind !== 'string' || !KIND_PATTERN.test(kind)) {
    throw new TroupeError('INVALID_ARGUMENT', `entity kind must be named with 1-64 of [A-Za-z0-9_.-] (defineActor({ name })), got ${JSON.stringify(kind)}`)
  }
  return kind
}

/** Key of an entity among all kinds on a node. */
export function entityKey(kind: string, id: string): string {
  return `${kind}\u0000${id}`
}

/**
 * The child name of an entity under its region: readable when it fits
 * (`counter:42`), with '/', '#', '%' and whitespace escaped so that distinct
 * ids never share a name; long ids fall back to a unique serial.
 */
export function childName(kind: string, id: string, serial: number): string {
  const escaped = id.replace(/[/#%\s]/g, (c) => `%${c.charCodeAt(0).toString(16)};`)
  const name = `${kind}:${escaped}`
  // '%%' never occurs in an escaped id, so serial names cannot collide with readable ones.
  return name.length <= 256 ? name : `${kind}:%%${serial.toString(36)}`
}
