// Puts at a fixed number in flight through a client-node handle, for profiling
// the member processes (their CPU profiles go to ./raft-probe-prof/ with --profile).
//   node --conditions=source --import tsx bench/raft-probe.ts [inflight] [ops] [--profile]
import { closedLoop } from './lib.js'
import { readFileSync } from 'node:fs'
import { basePort, cpuSeconds } from './cluster-procs.js'

/** User and system CPU seconds of a process. */
function cpuSplit(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return [Number(f[11]) / 100, Number(f[12]) / 100]
}
import { MEMBERS, RaftCluster } from './raft-cluster.js'

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const inflight = Number(args[0] ?? 1)
const ops = Number(args[1] ?? 3000)
const profile = process.argv.includes('--profile')
const cluster = await RaftCluster.start({ port: basePort(31_000), ...(profile ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir=raft-probe-prof'] } : {}) })
try {
  const kv = await cluster.handle()
  await kv.propose({ op: 'put', key: 'warm-up!', value: 'v' })
  const leader = await cluster.leader()
  // Warm up by time: the members run TypeScript that V8 compiles as it goes (the first few thousand puts run at half speed).
  for (let round = 0, until = performance.now() + 5000; performance.now() < until; round++) {
    await closedLoop(Math.max(200, inflight * 20), inflight, (i) => kv.propose({ op: 'put', key: `w${round}-${i}`, value: 'v1234567' }))
  }
  const stats = async () => Promise.all(MEMBERS.map(async (m) => (await cluster.proc(m).call({ cmd: 'stats' })).value as { batchesSent: number; messagesSent: number; wal: { flushes: number } }))
  const st0 = await stats()
  const pids = MEMBERS.map((m) => cluster.proc(m).pid)
  const s0 = pids.map(cpuSeconds)
  const split0 = pids.map(cpuSplit)
  const c0 = process.cpuUsage()
  const r = await closedLoop(ops, inflight, (i) => kv.propose({ op: 'put', key: `k${String(i).padStart(7, '0')}`, value: 'v1234567' }))
  const c = process.cpuUsage(c0)
  const s = pids.map((p, i) => ((cpuSeconds(p) - s0[i]!) * 1e6) / ops)
  const split1 = pids.map(cpuSplit)
  const st1 = await stats()
  console.log(`  user/sys µs per put: ${MEMBERS.map((m, i) => `${m} ${(((split1[i]![0] - split0[i]![0]) * 1e6) / ops).toFixed(0)}/${(((split1[i]![1] - split0[i]![1]) * 1e6) / ops).toFixed(0)}`).join(' ')}`)
  const per = (f: (x: (typeof st0)[number]) => number) => MEMBERS.map((m, i) => `${m} ${((f(st1[i]!) - f(st0[i]!)) / ops).toFixed(2)}`).join(' ')
  console.log(`  per put: raft batches sent ${per((x) => x.batchesSent)}; raft messages ${per((x) => x.messagesSent)}; fdatasyncs ${per((x) => x.wal.flushes)}`)
  console.log(
    `${inflight} in flight: ${Math.round(r.rate)} ops/s p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms; CPU µs/op client ${((c.user + c.system) / ops).toFixed(0)}, ` +
      MEMBERS.map((m, i) => `${m}${m === leader ? '*' : ''} ${s[i]!.toFixed(0)}`).join(' '),
  )
} finally {
  await cluster.stop()
}
process.exit(0)
