import { infoToWire, isDefaultInfo, parseMemberInfo } from './member-info.js'
import { isMemberStatus } from './member.js'
import type { MemberRecord } from './member.js'
import { Membership } from './membership.js'
import type { Tombstone } from './membership.js'
import { Reachability } from './reachability.js'
import type { ObserverRecord, Subject } from './reachability.js'

/**
 * Gossip as it crosses the wire: short arrays, no Maps (CBOR-friendly).
 * A record may carry fields after the ones listed (a later wire version
 * appends them); they are ignored, so are unknown keys of the object.
 * m: [node, address, incarnation, status, (appVersion, roles, metadata, wireMin, wireMax)][]
 *    (the last five only when one of them is not the default)
 * t: [node, incarnation, removedAtMs][]
 * r: [observer, incarnation, version, [node, incarnation][]][]
 * s: node names that have seen this content
 */
export type WireMember = [string, string, number, string] | [string, string, number, string, string, string[], Record<string, string>, number, number]

export interface WireMembership {
  m: WireMember[]
  t: [string, number, number][]
  r: [string, number, number, [string, number][]][]
  s: string[]
}

/** Limits on what a peer may send; larger input is rejected, not truncated. */
export const WIRE_LIMITS = {
  maxEntries: 10_000,
  maxNameChars: 256,
  maxAddressChars: 1024,
} as const

export function membershipToWire(state: Membership): WireMembership {
  return {
    m: state.members().map((r): WireMember => (r.info === undefined || isDefaultInfo(r.info) ? [r.node, r.address, r.incarnation, r.status] : [r.node, r.address, r.incarnation, r.status, ...infoToWire(r.info)])),
    t: state.tombstones().map((t) => [t.node, t.incarnation, t.removedAtMs]),
    r: state.reachability.list().map((o) => [o.observer, o.incarnation, o.version, o.unreachable.map((s) => [s.node, s.incarnation])]),
    s: [...state.seen].sort(),
  }
}

/** Thrown by `membershipFromWire` for input that is not valid gossip. */
export class BadGossip extends Error {
  override readonly name = 'BadGossip'
}

/** Parses and validates gossip from a peer; throws BadGossip with the reason. */
export function membershipFromWire(value: unknown): Membership {
  const w = value as Partial<WireMembership>
  if (typeof w !== 'object' || w === null) throw new BadGossip('gossip is not an object')
  const members = list(w.m, 'members').map(parseMember)
  const tombstones = list(w.t, 'tombstones').map(parseTombstone)
  const records = list(w.r, 'reachability').map(parseObserver)
  const seen = list(w.s, 'seen').map((n) => name(n, 'seen node'))
  return Membership.from(members, tombstones, Reachability.from(records), seen)
}

function parseMember(v: unknown): MemberRecord {
  if (!Array.isArray(v) || v.length < 4) throw new BadGossip('member is not [node, address, incarnation, status]')
  const [node, address, incarnation, status, appVersion, roles, metadata, wireMin, wireMax] = v
  if (!isMemberStatus(status) || status === 'removed') throw new BadGossip(`bad member status ${String(status)}`)
  if (typeof address !== 'string' || address.length > WIRE_LIMITS.maxAddressChars) throw new BadGossip('bad member address')
  const record = { node: name(node, 'member node'), address, incarnation: count(incarnation, 'incarnation'), status }
  if (v.length === 4) return record
  const info = parseMemberInfo({ appVersion, roles, metadata, wireMin, wireMax }, (m) => {
    throw new BadGossip(`member ${record.node}: ${m}`)
  })
  return isDefaultInfo(info) ? record : { ...record, info }
}

function parseTombstone(v: unknown): Tombstone {
  if (!Array.isArray(v) || v.length < 3) throw new BadGossip('tombstone is not [node, incarnation, removedAtMs]')
  const removedAtMs = v[2]
  if (typeof removedAtMs !== 'number' || !Number.isFinite(removedAtMs)) throw new BadGossip('bad tombstone time')
  return { node: name(v[0], 'tombstone node'), incarnation: count(v[1], 'incarnation'), removedAtMs }
}

function parseObserver(v: unknown): ObserverRecord {
  if (!Array.isArray(v) || v.length < 4) throw new BadGossip('observation is not [observer, incarnation, version, subjects]')
  const subjects: Subject[] = list(v[3], 'subjects').map((s) => {
    if (!Array.isArray(s) || s.length < 2) throw new BadGossip('subject is not [node, incarnation]')
    return { node: name(s[0], 'subject node'), incarnation: count(s[1], 'incarnation') }
  })
  subjects.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
  return { observer: name(v[0], 'observer'), incarnation: count(v[1], 'incarnation'), version: count(v[2], 'version'), unreachable: subjects }
}

function list(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new BadGossip(`${what} is not an array`)
  if (v.length > WIRE_LIMITS.maxEntries) throw new BadGossip(`${what}: ${v.length} entries exceed ${WIRE_LIMITS.maxEntries}`)
  return v
}

function name(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > WIRE_LIMITS.maxNameChars) throw new BadGossip(`bad ${what}`)
  return v
}

function count(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new BadGossip(`bad ${what}`)
  return v
}
