/** One of two authenticated connections between the same pair of nodes, as the tie-break sees it. */
export interface Candidate {
  /** 'outbound': this node dialed it. */
  role: 'outbound' | 'inbound'
  /** The peer's incarnation, or null while an outbound dial has not learned it yet. */
  incarnation: string | null
}

/**
 * One connection per node pair. When a second one appears (both nodes dialed
 * at once, or one redialed), both nodes must keep the same one without
 * talking about it, so the rule uses only what both sides know:
 *
 * 1. a different incarnation of the peer wins (the old process is gone);
 * 2. else, between connections dialed by different nodes, the one dialed by
 *    the node with the lower name wins (both sides compute the same answer);
 * 3. else (the same node dialed twice) the newer one wins: its dialer gave up
 *    on the old one.
 */
export function chooseConnection(selfName: string, peerName: string, existing: Candidate, incoming: Candidate): 'existing' | 'incoming' {
  if (existing.incarnation !== null && incoming.incarnation !== null && existing.incarnation !== incoming.incarnation) return 'incoming'
  const dialer = (c: Candidate) => (c.role === 'outbound' ? selfName : peerName)
  const a = dialer(existing)
  const b = dialer(incoming)
  if (a === b) return 'incoming'
  return a < b ? 'existing' : 'incoming'
}
