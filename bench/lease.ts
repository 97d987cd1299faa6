// Lease acquire+release pairs: Troupe leases (3 member processes on loopback,
// WriteAheadLog with fdatasync, fenced tokens) against etcd 3.4's lock (3
// members, fsync) and Redis SET NX PX + Lua release (no persistence, not
// safe: the speed reference), all running at once with their trials
// alternating. Workloads: 1 and 64 clients on their own names, and 16
// clients contending for one name.
//   node --conditions=source --import tsx bench/lease.ts [--json] [--quick]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { group } from '@troupe/raft'
import { Leases } from '@troupe/lease'
import type { LeaseRaftGroup } from '@troupe/lease'
import { median, nowMs, percentile, runWhenMain } from './lib.js'
import type { Figure } from './lib.js'
import { LEASE_BENCH_MEMBERS, LEASE_BENCH_SECRET } from './lease-member.js'
import { etcdLeader, etcdLockPair, haveBinary, RedisLock, startEtcd, startRedis } from './lease-peers.js'
import { loopbackPeers, spawnLineMember, startClient } from './peers.js'

const BASE_PORT = 24_700 + (process.pid % 50) * 20

interface Result {
  rate: number
  p50: number
  p99: number
}

interface Workload {
  label: string
  workers: number
  pairs: number
  /** Every worker on one name (contended) or each on its own. */
  contended: boolean
}

/** `workers` loops share `pairs` acquire+release pairs; rate and latency of a pair. */
async function closedLoop(workers: number, pairs: number, pair: (worker: number, i: number) => Promise<void>): Promise<Result> {
  const lat: number[] = []
  let next = 0
  const t0 = nowMs()
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (next < pairs) {
        const i = next++
        const s = nowMs()
        await pair(w, i)
        lat.push(nowMs() - s)
      }
    }),
  )
  const secs = (nowMs() - t0) / 1000
  lat.sort((a, b) => a - b)
  return { rate: pairs / secs, p50: percentile(lat, 50), p99: percentile(lat, 99) }
}

/** Runs pairs for at least `ms` (and `workers` pairs): the members' JIT and the servers' caches warm up before any trial counts. */
async function warmUp(workers: number, ms: number, pair: (worker: number, i: number) => Promise<void>): Promise<void> {
  const until = nowMs() + ms
  let i = 0
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (nowMs() < until || i < workers) await pair(w, i++)
    }),
  )
}

// ---- Troupe ----

interface TroupeCluster {
  leases: (count: number) => Leases[]
  /** Pairs at 1 client from a Leases client inside the member that leads the group (no client hops). */
  onLeader(pairs: number, warmMs: number): Promise<Result | null>
  stop(): Promise<void>
}

async function startTroupe(): Promise<TroupeCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'lease-bench-troupe-'))
  const peers = loopbackPeers(BASE_PORT, LEASE_BENCH_MEMBERS, { client: true })
  // Each member prints "ready", then one JSON line per command.
  const members = LEASE_BENCH_MEMBERS.map((m) => spawnLineMember('bench/lease-member.ts', [m, join(dir, m), JSON.stringify(peers)]))
  await Promise.all(members.map((c) => c.started))
  const system = await startClient(peers, LEASE_BENCH_SECRET)
  const handle = (await group(system, { id: 'bench-locks', members: LEASE_BENCH_MEMBERS, requestTimeoutMs: 10_000 })) as unknown as LeaseRaftGroup
  // The first request waits for the election.
  await new Leases(system, handle).get('warm-up')
  const made: Leases[] = []
  let run = 0
  return {
    onLeader: async (pairs, warmMs) => {
      const cmd = { cmd: 'pairs', pairs, warmMs, name: `leader-local-${++run}` }
      const replies = members.map((c) => c.send(cmd))
      const results = (await Promise.all(replies)).map((line) => JSON.parse(line) as { leader: boolean } & Result)
      return results.find((r) => r.leader) ?? null
    },
    leases: (count) => {
      const out = Array.from({ length: count }, () => new Leases(system, handle, { requestTimeoutMs: 5000 }))
      made.push(...out)
      return out
    },
    stop: async () => {
      await Promise.all(made.map((l) => l.close()))
      await system.terminate()
      for (const c of members) c.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

// ---- the run ----

/** One system under test: `prepare` makes the pair function of a workload (its clients, its names). */
interface System {
  label: string
  prepare(w: Workload): (worker: number, i: number, trial: string) => Promise<void>
  stop(): void | Promise<void>
}

/**
 * Every system runs at once and the trials alternate between them (a warm-up
 * each, then three rounds of one trial per system), so a change of machine
 * load hits them alike; each figure is the trial with the median rate. The
 * first workload's warm-up is long: the lease members run TypeScript that V8
 * compiles as it goes, and reach their steady rate after about 2,000 pairs
 * (~8 s at 1 client); a server runs warm, so that is what is measured.
 */
export async function run(options: { quick?: boolean } = {}): Promise<Figure[]> {
  const scale = options.quick ? 0.25 : 1
  const firstWarmMs = options.quick ? 2000 : 10_000
  const warmMs = options.quick ? 500 : 2000
  const workloads: Workload[] = [
    { label: '1 client', workers: 1, pairs: Math.round(1000 * scale), contended: false },
    { label: '64 clients', workers: 64, pairs: Math.round(6400 * scale), contended: false },
    { label: '16 contending', workers: 16, pairs: Math.round(800 * scale), contended: true },
  ]
  const name = (w: Workload, worker: number, trial: string) => (w.contended ? `hot-${trial}` : `n-${trial}-${worker}`)
  const systems: System[] = []
  try {
    const troupe = await startTroupe()
    systems.push({
      label: 'troupe',
      prepare: (w) => {
        const clients = troupe.leases(w.workers)
        return async (worker, _i, trial) => {
          const lease = await clients[worker]!.acquire(name(w, worker, trial), { ttlMs: 10_000 })
          await lease.release()
        }
      },
      stop: () => troupe.stop(),
    })
    if (haveBinary('etcd')) {
      const etcd = await startEtcd(BASE_PORT + 5)
      const leader = await etcdLeader(etcd.endpoints)
      systems.push({ label: 'etcd', stop: () => etcd.stop(), prepare: (w) => (worker, _i, trial) => etcdLockPair(leader, name(w, worker, trial)) })
    } else console.error('  etcd not installed (apt-get install etcd-server): no etcd figures')
    if (haveBinary('redis-server')) {
      const port = BASE_PORT + 19
      const redis = await startRedis(port)
      const lock = await RedisLock.open(port)
      systems.push({ label: 'redis', stop: () => (lock.close(), redis.stop()), prepare: (w) => (worker, _i, trial) => lock.pair(name(w, worker, trial)) })
    } else console.error('  redis-server not installed: no Redis figures')

    const show = (label: string, r: Result) =>
      console.error(`  ${label.padEnd(21)} ${Math.round(r.rate).toLocaleString('en-US').padStart(8)} pairs/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms`)
    const results = new Map<string, Map<string, Result>>()
    let trial = 0
    for (const [index, w] of workloads.entries()) {
      const pairs = systems.map((sys) => sys.prepare(w))
      for (const pair of pairs) {
        const t = `w${++trial}`
        await warmUp(w.workers, index === 0 ? firstWarmMs : warmMs, (worker, i) => pair(worker, i, t))
      }
      const runs: Result[][] = systems.map(() => [])
      for (let round = 0; round < 3; round++) {
        for (let k = 0; k < systems.length; k++) {
          const t = `t${++trial}`
          runs[k]!.push(await closedLoop(w.workers, w.pairs, (worker, i) => pairs[k]!(worker, i, t)))
        }
      }
      systems.forEach((sys, k) => {
        const m = median(runs[k]!.map((r) => r.rate))
        const r = runs[k]!.find((x) => x.rate === m) ?? runs[k]![0]!
        if (!results.has(sys.label)) results.set(sys.label, new Map())
        results.get(sys.label)!.set(w.label, r)
        show(`${sys.label.padEnd(6)} ${w.label}`, r)
      })
    }

    // An app that runs its lease client where the group leads (an embedded singleton job) skips the
    // two client hops; reported beside the 1-client figures, not instead of them.
    const onLeader = await troupe.onLeader(Math.round(1000 * scale), warmMs)
    if (onLeader) show("troupe 1 client on the leader's node", onLeader)

    const figures: Figure[] = []
    const ours = results.get('troupe')!
    for (const w of workloads) {
      const r = ours.get(w.label)!
      const etcd = results.get('etcd')?.get(w.label) ?? null
      const redis = results.get('redis')?.get(w.label) ?? null
      const base = (b: Result | null, label: string, pick: (x: Result) => number) => (b ? { baseline: label, baselineValue: pick(b) } : { baseline: null, baselineValue: null })
      figures.push({ bench: 'lease', metric: `pairs/s, ${w.label}`, value: r.rate, unit: 'pairs/s', kind: 'rate', ...base(etcd, 'etcd 3.4 lock, 3 members', (x) => x.rate) })
      figures.push({ bench: 'lease', metric: `p50, ${w.label}`, value: r.p50, unit: 'ms', kind: 'latency', ...base(etcd, 'etcd 3.4 lock, 3 members', (x) => x.p50) })
      figures.push({ bench: 'lease', metric: `p99, ${w.label}`, value: r.p99, unit: 'ms', kind: 'latency', ...base(etcd, 'etcd 3.4 lock, 3 members', (x) => x.p99) })
      figures.push({ bench: 'lease', metric: `pairs/s vs Redis, ${w.label}`, value: r.rate, unit: 'pairs/s', kind: 'rate', ...base(redis, 'Redis SET NX PX + Lua release (no fsync, unsafe)', (x) => x.rate) })
    }
    if (onLeader) {
      const etcd = results.get('etcd')?.get(workloads[0]!.label) ?? null
      const base = etcd ? { baseline: "etcd 3.4 lock, 3 members, client in its own process", baselineValue: etcd.rate } : { baseline: null, baselineValue: null }
      figures.push({ bench: 'lease', metric: "pairs/s, 1 client on the group leader's node", value: onLeader.rate, unit: 'pairs/s', kind: 'rate', ...base })
    }
    return figures
  } finally {
    for (const sys of systems.reverse()) await sys.stop()
  }
}

runWhenMain('lease.ts', (args) => run({ quick: args.includes('--quick') }))
