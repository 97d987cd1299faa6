// The common start of a bench member process: `<script> <name> <dataDir> <json peers {name: url}>`.
// Listens on the port of its own url (WebSocket with the bench's secret) and
// opens a WriteAheadLog (fdatasync) under dataDir.
import { mkdirSync } from 'node:fs'
import { ActorSystem, NodeDisk, WebSocketTransport } from '@troupe/runtime'
import { WriteAheadLog } from '@troupe/raft'

export async function startMemberNode(secret: string): Promise<{ name: string; system: ActorSystem; wal: WriteAheadLog }> {
  const [name, dataDir, peersJson] = process.argv.slice(2) as [string, string, string]
  const peers = JSON.parse(peersJson) as Record<string, string>
  mkdirSync(dataDir, { recursive: true })
  const transport = new WebSocketTransport({
    listen: { host: '127.0.0.1', port: Number(new URL(peers[name]!).port) },
    peers: Object.fromEntries(Object.entries(peers).filter(([n]) => n !== name)),
    secret,
    maxBufferedBytes: 64 * 1024 * 1024,
  })
  const system = new ActorSystem({ name, transport })
  await system.start()
  const wal = await WriteAheadLog.open(new NodeDisk(dataDir), { dir: 'raft' })
  return { name, system, wal }
}
