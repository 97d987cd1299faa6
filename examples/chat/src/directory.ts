// Where browsers can reach each node. Every node joins with its page and
// WebSocket addresses in its member record (`pageMetadata`, the `metadata`
// of startNode), so the cluster's gossip carries them: the directory reads
// the up members' records, with nothing to ask. Pages use the list to
// reconnect elsewhere when their node dies.
import type { Cluster, Member } from '@troupe/runtime'
import type { NodeInfo } from './protocol.js'

/** Member-record metadata keys of the page and WebSocket addresses. */
const HTTP_KEY = 'chat.http'
const WS_KEY = 'chat.ws'

/** The metadata a chat node joins with. */
export function pageMetadata(self: NodeInfo): Record<string, string> {
  return { [HTTP_KEY]: self.http, [WS_KEY]: self.ws }
}

/** The page addresses a member joined with, or null (a node of another app, or an older build). */
export function nodeInfoOf(m: Pick<Member, 'node' | 'metadata'>): NodeInfo | null {
  const http = m.metadata[HTTP_KEY]
  const ws = m.metadata[WS_KEY]
  if (!isUrl(http, 'http') || !isUrl(ws, 'ws')) return null
  return { name: m.node, http, ws }
}

export class NodeDirectory {
  private readonly listeners = new Set<(nodes: NodeInfo[]) => void>()
  private last = ''

  constructor(
    private readonly cluster: Cluster,
    readonly self: NodeInfo,
  ) {
    cluster.on('changed', () => this.notify())
  }

  /** Up members whose addresses are known, this node first, then by name. */
  nodes(): NodeInfo[] {
    const others = this.cluster
      .members()
      .filter((m) => m.status === 'up' && m.node !== this.self.name)
      .map(nodeInfoOf)
      .filter((n): n is NodeInfo => n !== null)
      .sort((a, b) => (a.name < b.name ? -1 : 1))
    return [this.self, ...others]
  }

  /** Called with the new list whenever it changes. */
  onChange(fn: (nodes: NodeInfo[]) => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  private notify(): void {
    const nodes = this.nodes()
    const key = JSON.stringify(nodes)
    if (key === this.last) return
    this.last = key
    for (const fn of this.listeners) fn(nodes)
  }
}

function isUrl(x: string | undefined, scheme: 'http' | 'ws'): x is string {
  return typeof x === 'string' && (x.startsWith(`${scheme}://`) || x.startsWith(`${scheme}s://`))
}
