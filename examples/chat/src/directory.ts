// Where browsers can reach each node. Every node runs a small actor at
// /user/directory that answers with its own page and WebSocket addresses;
// when the cluster's up members change, a node asks the ones it does not
// know yet. Pages use the list to reconnect elsewhere when their node dies.
import { defineActor } from '@troupe/runtime'
import type { ActorSystem, Cluster } from '@troupe/runtime'
import type { NodeInfo } from './protocol.js'

export const DIRECTORY_PATH = '/user/directory'
const ASK_TIMEOUT_MS = 3000

const Directory = defineActor({
  name: 'directory',
  initial: (): { self: NodeInfo | null } => ({ self: null }),
  handlers: {
    set(s, self: NodeInfo) {
      s.self = self
    },
    info: (s): NodeInfo | null => s.self,
  },
})
type DirectoryProtocol = { info(): NodeInfo | null }

export class NodeDirectory {
  private readonly known = new Map<string, NodeInfo>()
  private readonly listeners = new Set<(nodes: NodeInfo[]) => void>()
  private readonly asking = new Set<string>()
  private last = ''

  constructor(
    private readonly system: ActorSystem,
    private readonly cluster: Cluster,
    readonly self: NodeInfo,
  ) {
    system.spawn(Directory, { name: 'directory' }).tell('set', self)
    this.known.set(self.name, self)
    cluster.on('changed', () => this.refresh())
  }

  /** Up members whose addresses are known, this node first, then by name. */
  nodes(): NodeInfo[] {
    const up = new Set(this.cluster.upMembers())
    up.add(this.self.name)
    return [...up].filter((n) => this.known.has(n)).sort((a, b) => (a === this.self.name ? -1 : b === this.self.name ? 1 : a < b ? -1 : 1)).map((n) => this.known.get(n)!)
  }

  /** Called with the new list whenever it changes. */
  onChange(fn: (nodes: NodeInfo[]) => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  refresh(): void {
    const up = new Set(this.cluster.upMembers())
    // A node that left may come back at another address: ask it again then.
    for (const node of this.known.keys()) if (!up.has(node) && node !== this.self.name) this.known.delete(node)
    for (const node of up) {
      if (this.known.has(node) || this.asking.has(node)) continue
      this.asking.add(node)
      this.system
        .remoteRef<DirectoryProtocol>(node, DIRECTORY_PATH)
        .ask('info', undefined, { timeoutMs: ASK_TIMEOUT_MS })
        .then((info) => {
          if (info !== null && isNodeInfo(info) && info.name === node) this.known.set(node, info)
        })
        .catch(() => {}) // asked again on the next change
        .finally(() => {
          this.asking.delete(node)
          this.notify()
        })
    }
    this.notify()
  }

  private notify(): void {
    const nodes = this.nodes()
    const key = JSON.stringify(nodes)
    if (key === this.last) return
    this.last = key
    for (const fn of this.listeners) fn(nodes)
  }
}

function isNodeInfo(x: unknown): x is NodeInfo {
  const o = x as Record<string, unknown>
  return typeof o === 'object' && o !== null && typeof o.name === 'string' && typeof o.http === 'string' && typeof o.ws === 'string'
}
