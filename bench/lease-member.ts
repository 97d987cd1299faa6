// One member of the lease group for bench/lease.ts, in its own process:
//   node --conditions=source --import tsx bench/lease-member.ts <name> <dataDir> <json peers {name: url}>
// Listens on the port of its own url, keeps its log in a WriteAheadLog (fdatasync) under
// dataDir, prints "ready" once the group is open, exits when stdin closes or on SIGTERM.
// A stdin line {"cmd":"pairs","pairs":N,"warmMs":W} runs, if this member leads the group,
// N acquire+release pairs from a Leases client on this node (after W ms of warm-up) and
// prints one JSON line {"leader":true,"rate":...,"p50":...,"p99":...}; else {"leader":false}.
import { createInterface } from 'node:readline'
import { Leases, openLeaseGroup } from '@troupe/lease'
import { closedLoop, nowMs } from './lib.js'
import { startMemberNode } from './member-node.js'

export const LEASE_BENCH_SECRET = 'lease-bench-secret-0123456789abcdef'
export const LEASE_BENCH_MEMBERS = ['m1', 'm2', 'm3']

async function main(): Promise<void> {
  const { system, wal } = await startMemberNode(LEASE_BENCH_SECRET)
  const { group, service } = await openLeaseGroup(system, { id: 'bench-locks', members: LEASE_BENCH_MEMBERS, storage: wal, sessionTtlMs: 3_600_000 })
  process.stdout.write('ready\n')
  const stop = () => {
    void system.terminate().finally(() => process.exit(0))
  }
  const lines = createInterface({ input: process.stdin })
  lines.on('line', (line) => {
    const cmd = JSON.parse(line) as { cmd: string; pairs: number; warmMs: number; name: string }
    if (cmd.cmd !== 'pairs') return
    if (!service?.leading) return void process.stdout.write(`${JSON.stringify({ leader: false })}\n`)
    void (async () => {
      const leases = new Leases(system, group, { requestTimeoutMs: 5000 })
      const pair = async () => (await leases.acquire(cmd.name, { ttlMs: 10_000 })).release()
      for (const until = nowMs() + cmd.warmMs; nowMs() < until; ) await pair()
      const r = await closedLoop(cmd.pairs, 1, pair)
      await leases.close()
      process.stdout.write(`${JSON.stringify({ leader: true, ...r })}\n`)
    })()
  })
  lines.on('close', stop)
  process.on('SIGTERM', stop)
}

if (process.argv[1]?.endsWith('lease-member.ts')) void main()
