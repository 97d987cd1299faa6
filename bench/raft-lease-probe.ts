// Where a lease pair's time goes at 1 client: acquire and release timed apart,
// beside a bare propose on the same group, after 2,500 warm-up rounds (the
// members are JIT-compiled as they go).
//   node --conditions=source --import tsx bench/raft-lease-probe.ts
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ActorSystem, WebSocketTransport } from '@troupe/runtime'
import { group } from '@troupe/raft'
import { Leases } from '@troupe/lease'
import type { LeaseRaftGroup } from '@troupe/lease'
import { nowMs, percentile } from './lib.js'
import { LEASE_BENCH_MEMBERS, LEASE_BENCH_SECRET } from './lease-member.js'

const BASE_PORT = 25_900 + (process.pid % 50) * 20
const dir = mkdtempSync(join(tmpdir(), 'lease-probe-'))
const url = (i: number) => `ws://127.0.0.1:${BASE_PORT + i}`
const peers: Record<string, string> = { bench: url(0) }
LEASE_BENCH_MEMBERS.forEach((m, i) => (peers[m] = url(i + 1)))
const children: ChildProcess[] = LEASE_BENCH_MEMBERS.map((m) =>
  spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'bench/lease-member.ts', m, join(dir, m), JSON.stringify(peers)], { stdio: ['pipe', 'pipe', 'inherit'] }),
)
await Promise.all(children.map((c) => new Promise<void>((resolve) => c.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()))))
const transport = new WebSocketTransport({ listen: { host: '127.0.0.1', port: BASE_PORT }, peers: Object.fromEntries(Object.entries(peers).filter(([n]) => n !== 'bench')), secret: LEASE_BENCH_SECRET, maxBufferedBytes: 64 * 1024 * 1024 })
const system = new ActorSystem({ name: 'bench', transport })
await system.start()
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
for (const c of children) c.kill('SIGTERM')
rmSync(dir, { recursive: true, force: true })
process.exit(0)
