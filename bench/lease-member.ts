// One member of the lease group for bench/lease.ts, in its own process:
//   node --conditions=source --import tsx bench/lease-member.ts <name> <dataDir> <json peers {name: url}>
// Listens on the port of its own url, keeps its log in a WriteAheadLog (fdatasync) under
// dataDir, prints "ready" once the group is open, exits when stdin closes or on SIGTERM.
import { mkdirSync } from 'node:fs'
import { ActorSystem, NodeDisk, WebSocketTransport } from '@troupe/runtime'
// Relative until the root package.json lists @troupe/raft and @troupe/lease (as it does @troupe/runtime).
import { WriteAheadLog } from '../packages/raft/src/index.js'
import { openLeaseGroup } from '../packages/lease/src/index.js'

export const LEASE_BENCH_SECRET = 'lease-bench-secret-0123456789abcdef'
export const LEASE_BENCH_MEMBERS = ['m1', 'm2', 'm3']

async function main(): Promise<void> {
  const [name, dataDir, peersJson] = process.argv.slice(2) as [string, string, string]
  const peers = JSON.parse(peersJson) as Record<string, string>
  const port = Number(new URL(peers[name]!).port)
  mkdirSync(dataDir, { recursive: true })
  const transport = new WebSocketTransport({
    listen: { host: '127.0.0.1', port },
    peers: Object.fromEntries(Object.entries(peers).filter(([n]) => n !== name)),
    secret: LEASE_BENCH_SECRET,
    maxBufferedBytes: 64 * 1024 * 1024,
  })
  const system = new ActorSystem({ name, transport })
  await system.start()
  const wal = await WriteAheadLog.open(new NodeDisk(dataDir), { dir: 'raft' })
  await openLeaseGroup(system, { id: 'bench-locks', members: LEASE_BENCH_MEMBERS, storage: wal, sessionTtlMs: 3_600_000 })
  process.stdout.write('ready\n')
  const stop = () => {
    void system.terminate().finally(() => process.exit(0))
  }
  process.stdin.on('end', stop)
  process.stdin.resume()
  process.on('SIGTERM', stop)
}

if (process.argv[1]?.endsWith('lease-member.ts')) void main()
