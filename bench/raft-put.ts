// Small puts (8 B key, 8 B value) with 1 and 64 in flight: a Troupe Raft group
// on 3 member processes (WriteAheadLog, fdatasync) driven by a client node in
// this process (a group handle on a non-member node, over WebSocket), beside a
// 3-member etcd 3.4 driven by this process over its JSON gateway (as fast as
// the etcd3 gRPC client from Node here, and needs no dependency), same
// machine, same run. Also printed: fdatasyncs per put on each member, CPU per
// put, and the same puts from a handle on the leader's own node (no client hop).
//   node --conditions=source --import tsx bench/raft-put.ts [--json] [--quick] [--profile]
// --profile writes the members' CPU profiles (--cpu-prof) to ./raft-put-prof/.
import { closedLoop, median, runWhenMain } from './lib.js'
import type { Figure } from './lib.js'
import { basePort, cpuSeconds, EtcdCluster, haveBinary } from './cluster-procs.js'
import { MEMBERS, RaftCluster } from './raft-cluster.js'

interface Result {
  rate: number
  p50: number
  p99: number
  /** CPU seconds per 1,000 ops: the client process, and all servers together. */
  clientCpuMs: number
  serverCpuMs: number
}

interface Workload {
  inflight: number
  ops: number
}

const key = (i: number) => `k${String(i % 10_000_000).padStart(7, '0')}` // 8 bytes
const VALUE = 'v1234567' // 8 bytes

/** A system under test: puts, and the processes whose CPU counts as the servers'. */
interface Target {
  name: string
  put: (i: number) => Promise<unknown>
  pids: () => number[]
  /** Keys already used (each trial writes new keys). */
  at: number
}

/** `ops` puts, `inflight` at a time, with CPU per put of the client and the servers. */
async function trial(t: Target, inflight: number, ops: number): Promise<Result> {
  const start = t.at
  t.at += ops
  const pids = t.pids()
  const s0 = pids.reduce((a, p) => a + cpuSeconds(p), 0)
  const c0 = process.cpuUsage()
  const r = await closedLoop(ops, inflight, (i) => t.put(start + i))
  const c = process.cpuUsage(c0)
  const s = pids.reduce((a, p) => a + cpuSeconds(p), 0) - s0
  return { ...r, clientCpuMs: ((c.user + c.system) / 1000 / ops) * 1000, serverCpuMs: (s * 1000 * 1000) / ops }
}

/**
 * A warm-up each, then three trials each, alternating between the systems so
 * that all see the same load on a shared machine; per system, the trial with
 * the median rate.
 */
async function trials(targets: Target[], w: Workload, n = 3): Promise<Result[]> {
  for (const t of targets) await trial(t, w.inflight, Math.max(w.inflight * 4, Math.floor(w.ops / 4)))
  const runs: Result[][] = targets.map(() => [])
  for (let i = 0; i < n; i++) for (const [k, t] of targets.entries()) runs[k]!.push(await trial(t, w.inflight, w.ops))
  return runs.map((rs) => {
    const m = median(rs.map((r) => r.rate))
    return rs.find((r) => r.rate === m) ?? rs[0]!
  })
}

/** fdatasyncs (write-ahead log flushes) per member so far. */
async function flushes(cluster: RaftCluster): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const m of MEMBERS) out.set(m, ((await cluster.proc(m).call({ cmd: 'stats' })).value as { wal: { flushes: number } }).wal.flushes)
  return out
}

const line = (system: string, w: Workload, r: Result) =>
  console.error(
    `  ${system.padEnd(7)} ${String(w.inflight).padStart(2)} in flight ${Math.round(r.rate).toLocaleString('en-US').padStart(8)} ops/s` +
      `  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  CPU per 1k ops: client ${r.clientCpuMs.toFixed(0)} ms, servers ${r.serverCpuMs.toFixed(0)} ms`,
  )

export async function run(options: { quick?: boolean; profile?: boolean } = {}): Promise<Figure[]> {
  const scale = options.quick ? 0.25 : 1
  const workloads: Workload[] = [
    { inflight: 1, ops: Math.round(2000 * scale) },
    { inflight: 64, ops: Math.round(40_000 * scale) },
  ]
  const port = basePort(30_000)
  const ours = new Map<number, Result>()
  const etcd = new Map<number, Result>()
  const local = new Map<number, Result>()

  const cluster = await RaftCluster.start({ port, ...(options.profile ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir=raft-put-prof'] } : {}) })
  let e: EtcdCluster | null = null
  try {
    const kv = await cluster.handle()
    // The first put waits for the election.
    await kv.propose({ op: 'put', key: 'warm-up!', value: VALUE })
    const leader = await cluster.leader()
    const targets: Target[] = [{ name: 'troupe', put: (i) => kv.propose({ op: 'put', key: key(i), value: VALUE }), pids: () => MEMBERS.map((m) => cluster.proc(m).pid), at: 0 }]
    if (haveBinary('etcd')) {
      e = await EtcdCluster.start(port + 5)
      const endpoint = e.endpoints[await e.leader()]!
      const etcdCluster = e
      targets.push({ name: 'etcd', put: (i) => etcdCluster.put(endpoint, key(i), VALUE), pids: () => etcdCluster.pids(), at: 0 })
    } else console.error('  etcd not installed (apt-get install etcd-server): no etcd figures')
    console.error(`  troupe leader ${leader}; trials alternate between ${targets.map((t) => t.name).join(' and ')}`)
    for (const w of workloads) {
      const f0 = await flushes(cluster)
      const puts0 = targets[0]!.at
      const [r, b] = await trials(targets, w)
      const f1 = await flushes(cluster)
      ours.set(w.inflight, r!)
      line('troupe', w, r!)
      if (b) {
        etcd.set(w.inflight, b)
        line('etcd', w, b)
      }
      const perPut = MEMBERS.map((m) => `${m}${m === leader ? ' (leader)' : ''} ${((f1.get(m)! - f0.get(m)!) / (targets[0]!.at - puts0)).toFixed(2)}`)
      console.error(`          troupe fdatasyncs per put: ${perPut.join(', ')}`)
    }
    // Without the client hop: the same puts from a handle on the leader's own node.
    for (const w of workloads) {
      const r = (await cluster.proc(leader).call({ cmd: 'loop', ops: w.ops, inflight: w.inflight }, 300_000)).value as Result
      local.set(w.inflight, r)
      console.error(`  troupe  ${String(w.inflight).padStart(2)} in flight, handle on the leader's node: ${Math.round(r.rate).toLocaleString('en-US')} ops/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms`)
    }
  } finally {
    e?.stop()
    await cluster.stop()
  }

  const figures: Figure[] = []
  const base = 'etcd 3.4, 3 members, JSON gateway'
  for (const w of workloads) {
    const r = ours.get(w.inflight)!
    const b = etcd.get(w.inflight) ?? null
    const vs = (pick: (x: Result) => number) => (b ? { baseline: base, baselineValue: pick(b) } : { baseline: null, baselineValue: null })
    figures.push({ bench: 'raft-put', metric: `ops/s, ${w.inflight} in flight`, value: r.rate, unit: 'ops/s', kind: 'rate', ...vs((x) => x.rate) })
    figures.push({ bench: 'raft-put', metric: `p50, ${w.inflight} in flight`, value: r.p50, unit: 'ms', kind: 'latency', ...vs((x) => x.p50) })
    figures.push({ bench: 'raft-put', metric: `p99, ${w.inflight} in flight`, value: r.p99, unit: 'ms', kind: 'latency', ...vs((x) => x.p99) })
  }
  for (const w of workloads) {
    const r = local.get(w.inflight)
    if (r) figures.push({ bench: 'raft-put', metric: `ops/s, ${w.inflight} in flight, client on the leader node`, value: r.rate, unit: 'ops/s', kind: 'rate', baseline: null, baselineValue: null })
  }
  return figures
}

runWhenMain('raft-put.ts', (args) => run({ quick: args.includes('--quick'), profile: args.includes('--profile') }))
