import type { RouteMsg } from './entity-ref.js'
import { isValidEntityId } from './entity-id.js'

/** Path of every node's shard region. */
export const REGION_NAME = 'sharding'
export const REGION_PATH = `/system/${REGION_NAME}`

/** Most nodes a message is forwarded through before it is parked until views change. */
export const MAX_HOPS = 4

/**
 * A region's report to its peers, sent on every view change (before anything
 * it routes under the new view, so it also marks "no more of the old routes
 * from me"), and on request.
 */
export interface StatusMsg {
  node: string
  /** The sender's view: sorted up members. */
  members: string[]
  /** Shards the sender still hosts but no longer owns. */
  handingOff: number[]
  /** The sender's shard count; peers with another count are misconfigured. */
  shards: number
  /** Ask the receiver to answer with its own status. */
  reply: boolean
  /** The sender's incarnation, when its view knows incarnations (else null). */
  incarnation: number | null
  /** The receiver's incarnation in the sender's view (null: not a member, or no incarnations). */
  yourIncarnation: number | null
}

/** Shards the sender finished handing off (their entities are all stopped). */
export interface ReleasedMsg {
  node: string
  shards: number[]
}

/**
 * The error a node answers an ask with when it has no region (yet): its
 * sharding has not started, or it restarted and has not started it again.
 * The wording is the remoting's for any ask to a path without an actor.
 */
export function isNoRegionAt(err: unknown, node: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null
  return typeof e === 'object' && e !== null && e.code === 'ACTOR_NOT_FOUND' && e.message === `no actor at ${node}${REGION_PATH}`
}

const MAX_MEMBERS = 65_534

export function isRouteMsg(v: unknown): v is RouteMsg {
  return (
    Array.isArray(v) &&
    v.length === 6 &&
    typeof v[0] === 'string' &&
    isValidEntityId(v[1]) &&
    typeof v[2] === 'string' &&
    Number.isInteger(v[4]) &&
    v[4] >= 0 &&
    typeof v[5] === 'number' &&
    v[5] >= 0 &&
    Number.isFinite(v[5])
  )
}

export function isStatusMsg(v: unknown, shards: number): v is StatusMsg {
  if (typeof v !== 'object' || v === null) return false
  const s = v as Partial<StatusMsg>
  return (
    typeof s.node === 'string' &&
    Array.isArray(s.members) &&
    s.members.length <= MAX_MEMBERS &&
    s.members.every((m) => typeof m === 'string') &&
    isShardList(s.handingOff, shards) &&
    typeof s.shards === 'number' &&
    typeof s.reply === 'boolean' &&
    isIncarnation(s.incarnation) &&
    isIncarnation(s.yourIncarnation)
  )
}

export function isReleasedMsg(v: unknown, shards: number): v is ReleasedMsg {
  if (typeof v !== 'object' || v === null) return false
  const r = v as Partial<ReleasedMsg>
  return typeof r.node === 'string' && isShardList(r.shards, shards)
}

function isShardList(v: unknown, shards: number): v is number[] {
  return Array.isArray(v) && v.length <= shards && v.every((s) => Number.isInteger(s) && s >= 0 && s < shards)
}

function isIncarnation(v: unknown): v is number | null {
  return v === null || (Number.isInteger(v) && (v as number) >= 0)
}
