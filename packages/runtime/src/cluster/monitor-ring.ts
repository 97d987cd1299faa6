import { fnv1a32 } from '../hash.js'

/**
 * Which nodes `self` heartbeats: its successors on a ring of nodes ordered by
 * a hash of their names, until `k` reachable ones are included. Unreachable
 * successors stay included (so their observers can see them come back) but
 * do not count, so a dead neighbour does not leave a node less watched.
 * Each node thus sends at most k heartbeats per interval to reachable peers,
 * whatever the cluster size, and is watched by about k others.
 */
export function monitoredNodes(self: string, nodes: Iterable<string>, k: number, unreachable: ReadonlySet<string>): string[] {
  const ring = [...new Set([...nodes, self])].map((node) => ({ node, h: fnv1a32(node) }))
  ring.sort((a, b) => a.h - b.h || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
  const start = ring.findIndex((e) => e.node === self)
  const out: string[] = []
  let reachable = 0
  for (let i = 1; i < ring.length && reachable < k; i++) {
    const node = ring[(start + i) % ring.length].node
    out.push(node)
    if (!unreachable.has(node)) reachable++
  }
  return out
}
