// Nodes on the real WebSocket transport, a NodeDisk in a temp dir and the
// HTTP listener, all on loopback with port 0.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startNode } from '../src/index.js'
import type { NodeConfig, TroupeNode } from '../src/index.js'
import { FAST_CLUSTER, SECRET, services, testLog } from './helpers.js'

export const OPERATOR_TOKEN = 'operator-token-for-tests-0123456789'

export class WsCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'troupe-node-'))
  readonly nodes: TroupeNode[] = []
  readonly lines: string[] = []

  /** Starts `name`, joining through the nodes started before it (the first forms the cluster). */
  async start(name: string, extra: Partial<NodeConfig> = {}): Promise<TroupeNode> {
    const node = await startNode({
      name,
      listen: { host: '127.0.0.1', port: 0 },
      secret: SECRET,
      seeds: this.nodes.map((n) => ({ node: n.name, address: n.address })),
      dataDir: join(this.dir, name),
      http: { port: 0, operatorTokens: [{ token: OPERATOR_TOKEN, role: 'admin' }] },
      cluster: FAST_CLUSTER,
      raftMembers: ['a', 'b', 'c'],
      services: services(),
      installSignalHandlers: false,
      log: testLog(this.lines, name),
      ...extra,
    })
    this.nodes.push(node)
    return node
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.shutdown()))
    rmSync(this.dir, { recursive: true, force: true })
  }
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers })
  const text = await res.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    /* not JSON */
  }
  return { status: res.status, body }
}
