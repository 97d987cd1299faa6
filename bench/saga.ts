// 3-step sagas per second, with 1 and 64 sagas in flight: on one node with the
// file log (WriteAheadLog over NodeDisk, fdatasync), and on 3 member processes
// with the Raft saga log (each member fdatasyncs its own WriteAheadLog), beside
// the raw fdatasync rate of the same disk measured in the same run (append
// 64 B + fdatasync, as ../shared/bench/peers/bench-fsync.mjs).
// A saga here is 5 durable appends: SagaStarted, then one per step (its
// outcome together with the next step's StepScheduled), the last with SagaCompleted.
//   node --conditions=source --import tsx bench/saga.ts [--json] [--quick]
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ActorSystem, NodeDisk } from '@troupe/runtime'
import { FileSagaLog, SagaCoordinator } from '@troupe/saga'
import { ChildProc, killAll, sleep } from './cluster-procs.js'
import { median, nowMs, runWhenMain } from './lib.js'
import type { Figure } from './lib.js'
import { loopbackPeers, startMembers } from './peers.js'
import { SAGA_BENCH_MEMBERS } from './saga-member.js'
import { benchSaga, closedSagaLoop } from './saga-workload.js'

const BASE_PORT = 25_300 + (process.pid % 50) * 10

type Result = { rate: number; p50: number; p99: number }

/** Appends of 64 B, each followed by fdatasync, on `dir`'s disk: ops/s. */
function fdatasyncRate(dir: string, n = 2000): number {
  const file = join(dir, 'fsync.log')
  const fd = openSync(file, 'a')
  const buf = Buffer.alloc(64, 0x61)
  const t0 = nowMs()
  for (let i = 0; i < n; i++) {
    writeSync(fd, buf)
    fdatasyncSync(fd)
  }
  const rate = n / ((nowMs() - t0) / 1000)
  closeSync(fd)
  rmSync(file, { force: true })
  return rate
}

/** One warm-up, three trials; the trial with the median rate. */
async function trials(run: (total: number) => Promise<Result>, total: number): Promise<Result> {
  await run(Math.max(10, Math.floor(total / 4)))
  const runs: Result[] = []
  for (let i = 0; i < 3; i++) runs.push(await run(total))
  const m = median(runs.map((r) => r.rate))
  return runs.find((r) => r.rate === m) ?? runs[0]!
}

async function fileLog(dir: string, workloads: { window: number; total: number }[]): Promise<Result[]> {
  const system = new ActorSystem({ name: 'bench' })
  const disk = new NodeDisk(join(dir, 'file-log'))
  const log = await FileSagaLog.open(disk, { dir: 'sagas', retainFinished: 100_000 })
  const { def } = benchSaga(system)
  const coordinator = new SagaCoordinator({ system, log, definitions: [def] })
  let run = 0
  const out: Result[] = []
  try {
    for (const w of workloads) {
      out.push(await trials((total) => {
        const prefix = `f${++run}`
        return closedSagaLoop(total, w.window, (i) => coordinator.run(def, { n: i }, { id: `${prefix}-${i}` }))
      }, w.total))
    }
  } finally {
    await coordinator.close()
    await log.close()
    await disk.close()
    await system.terminate()
  }
  return out
}

async function raftLog(dir: string, workloads: { window: number; total: number }[]): Promise<Result[]> {
  const peers = loopbackPeers(BASE_PORT, SAGA_BENCH_MEMBERS)
  const members = SAGA_BENCH_MEMBERS.map((m) => new ChildProc(m, 'bench/saga-member.ts', [m, join(dir, m), JSON.stringify(peers)]))
  try {
    await startMembers(members, 30_000)
    let leader: ChildProc | undefined
    for (let i = 0; i < 200 && !leader; i++) {
      for (const c of members) if ((await c.call({ cmd: 'role' })).leader) leader = c
      if (!leader) await sleep(100)
    }
    if (!leader) throw new Error('no leader elected')
    const out: Result[] = []
    for (const w of workloads) {
      out.push(await trials(async (total) => {
        const r = await leader!.call({ cmd: 'run', total, window: w.window }, 120_000)
        if (r.error) throw new Error(String(r.error))
        return r as unknown as Result
      }, w.total))
    }
    return out
  } finally {
    await Promise.all(members.map((c) => c.stop()))
    await killAll(members)
  }
}

export async function run(options: { quick?: boolean } = {}): Promise<Figure[]> {
  const scale = options.quick ? 0.25 : 1
  const workloads = [
    { window: 1, total: Math.round(200 * scale) },
    { window: 64, total: Math.round(6400 * scale) },
  ]
  const dir = mkdtempSync(join(tmpdir(), 'saga-bench-'))
  try {
    const fsyncBefore = median([fdatasyncRate(dir), fdatasyncRate(dir), fdatasyncRate(dir)])
    console.error(`  raw append 64 B + fdatasync: ${Math.round(fsyncBefore)} ops/s`)
    const file = await fileLog(dir, workloads)
    file.forEach((r, i) => console.error(`  file log, ${workloads[i].window} in flight: ${Math.round(r.rate)} sagas/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`))
    const raft = await raftLog(dir, workloads)
    raft.forEach((r, i) => console.error(`  raft log (3 processes), ${workloads[i].window} in flight: ${Math.round(r.rate)} sagas/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`))
    const fsyncAfter = median([fdatasyncRate(dir), fdatasyncRate(dir), fdatasyncRate(dir)])
    const fsync = median([fsyncBefore, fsyncAfter])
    const base = { baseline: 'append 64 B + fdatasync, same disk', baselineValue: fsync }
    const figures: Figure[] = []
    workloads.forEach((w, i) => {
      figures.push({ bench: 'saga', metric: `sagas/s, file log, ${w.window} in flight`, value: file[i].rate, unit: 'sagas/s', kind: 'rate', ...base })
      figures.push({ bench: 'saga', metric: `p50, file log, ${w.window} in flight`, value: file[i].p50, unit: 'ms', kind: 'latency', baseline: null, baselineValue: null })
    })
    workloads.forEach((w, i) => {
      figures.push({ bench: 'saga', metric: `sagas/s, raft log x3, ${w.window} in flight`, value: raft[i].rate, unit: 'sagas/s', kind: 'rate', ...base })
      figures.push({ bench: 'saga', metric: `p50, raft log x3, ${w.window} in flight`, value: raft[i].p50, unit: 'ms', kind: 'latency', baseline: null, baselineValue: null })
      figures.push({ bench: 'saga', metric: `p99, raft log x3, ${w.window} in flight`, value: raft[i].p99, unit: 'ms', kind: 'latency', baseline: null, baselineValue: null })
    })
    return figures
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

runWhenMain('saga.ts', (args) => run({ quick: args.includes('--quick') }))
