// One member of the lease group for bench/lease.ts, in its own process:
//   node --conditions=source --import tsx bench/lease-member.ts <name> <dataDir> <json peers {name: url}>
// Listens on the port of its own url, keeps its log in a WriteAheadLog (fdatasync) under
// dataDir, prints "ready" once the group is open, exits when stdin closes or on SIGTERM.
import { openLeaseGroup } from '@troupe/lease'
import { startMemberNode } from './member-node.js'

export const LEASE_BENCH_SECRET = 'lease-bench-secret-0123456789abcdef'
export const LEASE_BENCH_MEMBERS = ['m1', 'm2', 'm3']

async function main(): Promise<void> {
  const { system, wal } = await startMemberNode(LEASE_BENCH_SECRET)
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
