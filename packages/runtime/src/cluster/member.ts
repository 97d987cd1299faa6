/**
 * A member's lifecycle. Within one incarnation a status only moves forward:
 * joining → up → leaving → exiting → removed, and `down` overrides every
 * status but `removed`. Gossip merges by taking the later status.
 */
export type MemberStatus = 'joining' | 'up' | 'leaving' | 'exiting' | 'down' | 'removed'

/** Merge order: the higher rank wins between two records of one incarnation. */
const RANK: Record<MemberStatus, number> = { joining: 0, up: 1, leaving: 2, exiting: 3, down: 4, removed: 5 }

export function statusRank(status: MemberStatus): number {
  return RANK[status]
}

export function isMemberStatus(v: unknown): v is MemberStatus {
  return typeof v === 'string' && Object.hasOwn(RANK, v)
}

import { DEFAULT_MEMBER_INFO } from './member-info.js'
import type { MemberInfo } from './member-info.js'

/** One node in the membership, as gossip carries it. */
export interface MemberRecord {
  readonly node: string
  /** Where the transport reaches the node (for in-process transports, any string). */
  readonly address: string
  /** Grows when the node restarts; a larger incarnation replaces the older record. */
  readonly incarnation: number
  readonly status: MemberStatus
  /** App version, roles, metadata and wire range it joined with; absent means the defaults (DEFAULT_MEMBER_INFO). */
  readonly info?: MemberInfo
}

/** A member as the public API shows it: the record, what it said about itself, and this node's view of its reachability. */
export interface Member extends Omit<MemberRecord, 'info'>, MemberInfo {
  readonly reachable: boolean
}

/**
 * Which of two records of the same node wins a merge: the larger incarnation,
 * then the later status. Returns the winner (the first on a tie).
 */
export function laterRecord(a: MemberRecord, b: MemberRecord): MemberRecord {
  if (a.incarnation !== b.incarnation) return a.incarnation > b.incarnation ? a : b
  return RANK[b.status] > RANK[a.status] ? b : a
}

/** Leader and tie-break order: lowest address first, then node name. */
export function compareByAddress(a: MemberRecord, b: MemberRecord): number {
  if (a.address !== b.address) return a.address < b.address ? -1 : 1
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0
}

/** The public Member of a record: its info flattened (defaults when absent) and this node's view of its reachability. */
export function toMember(r: MemberRecord, reachable: boolean): Member {
  const { appVersion, roles, metadata, wire } = r.info ?? DEFAULT_MEMBER_INFO
  return { node: r.node, address: r.address, incarnation: r.incarnation, status: r.status, appVersion, roles, metadata, wire, reachable }
}
