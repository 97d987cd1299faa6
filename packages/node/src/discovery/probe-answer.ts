import type { SeedNode } from '@troupe/runtime'
import { DiscoveryError } from './discovery-error.js'

/**
 * What a node answers a bootstrap probe with: who it is in the cluster
 * (node name and transport address) and the members of the cluster it is
 * in; `members` is empty until it is in one.
 */
export type ProbeAnswer = { node: string; address: string; members: SeedNode[] }

/** Most members a probe answer may list (the cluster's own `maxMembers` default). */
export const MAX_PROBE_MEMBERS = 1000

/** Checks an answer that came over the network; PROBE_FAILED when it is not a ProbeAnswer. */
export function parseProbeAnswer(value: unknown, from: string): ProbeAnswer {
  const bad = (why: string) => new DiscoveryError('PROBE_FAILED', 'probe', `${from} answered a malformed probe answer: ${why}`)
  if (typeof value !== 'object' || value === null) throw bad('not an object')
  const v = value as Record<string, unknown>
  if (!isName(v.node) || !isName(v.address)) throw bad('node and address must be non-empty strings')
  if (!Array.isArray(v.members)) throw bad('members is not an array')
  if (v.members.length > MAX_PROBE_MEMBERS) throw bad(`more than ${MAX_PROBE_MEMBERS} members`)
  const members: SeedNode[] = []
  for (const m of v.members) {
    if (typeof m !== 'object' || m === null || !isName((m as SeedNode).node) || !isName((m as SeedNode).address)) throw bad('a member is not { node, address }')
    members.push({ node: (m as SeedNode).node, address: (m as SeedNode).address })
  }
  return { node: v.node, address: v.address, members }
}

function isName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 1024
}
