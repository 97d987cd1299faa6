// Where a lease pair's time goes at 1 client: acquire and release timed apart,
// beside a bare propose on the same group, after 2,500 warm-up rounds (the
// members are JIT-compiled as they go).
//   node --conditions=source --import tsx bench/raft-lease-probe.ts
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { group } from '@troupe/raft'
import { Leases } from '@troupe/lease'
import type { LeaseRaftGroup } from '@troupe/lease'
import { nowMs, percentile } from './lib.js'
import { LEASE_BENCH_MEMBERS, LEASE_BENCH_SECRET } from './lease-member.js'
import { loopbackPeers, spawnLineMember, startClient } from './peers.js'

const BASE_PORT = 25_900 + (process.pid % 50) * 20
const dir = mkdtempSync(join(tmpdir(), 'lease-probe-'))
const peers = loopbackPeers(BASE_PORT, LEASE_BENCH_MEMBERS, { client: true })
const members = LEASE_BENCH_MEMBERS.map((m) => spawnLineMember('bench/lease-member.ts', [m, join(dir, m), JSON.stringify(peers)]))
await Promise.all(members.map((c) => c.started))
const system = await startClient(peers, LEASE_BENCH_SECRET)
const handle = (await group(system, { id: 'bench-locks', members: LEASE_BENCH_MEMBERS, requestTimeoutMs: 10_000 })) as unknown as LeaseRaftGroup
const leases = new Leases(system, handle, { requestTimeoutMs: 5000 })
await leases.get('warm-up')
const acq: number[] = []
const rel: number[] = []
const raw: number[] = []
for (let i = 0; i < 4000; i++) {
  const t0 = nowMs()
  const lease = await leases.acquire(`n-${i}`, { ttlMs: 10_000 })
  const t1 = nowMs()
  await lease.release()
  const t2 = nowMs()
  await handle.propose({ op: 'release', name: `n-${i}`, clientId: 'probe', requestId: i } as never)
  const t3 = nowMs()
  if (i >= 2500) (acq.push(t1 - t0), rel.push(t2 - t1), raw.push(t3 - t2))
}
const show = (what: string, xs: number[]) => {
  xs.sort((a, b) => a - b)
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length
  console.log(`${what.padEnd(28)} p50 ${percentile(xs, 50).toFixed(2)} ms  mean ${mean.toFixed(2)} ms  p99 ${percentile(xs, 99).toFixed(2)} ms`)
}
show('acquire', acq)
show('release', rel)
show('raw propose (no-op release)', raw)
await leases.close()
await system.terminate()
for (const c of members) c.stop()
rmSync(dir, { recursive: true, force: true })
process.exit(0)
