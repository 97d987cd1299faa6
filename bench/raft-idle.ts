// Multi-raft at rest: 1,000 idle key-value groups on 3 member processes
// (real WebSocket transport, one WriteAheadLog with fdatasync per node). Each
// group takes one write, then nothing; once every replica has quiesced we
// measure, over a window, the members' CPU (from /proc, % of one core, all
// three together) and what their Raft hosts send (raft messages, and remote
// tells: batches, including the per-node-pair liveness pings). The baseline
// is the same cluster with quiescence off (quiesceAfterTicks: 0), where every
// group ticks and heartbeats; both run in this invocation.
//   node --conditions=source --import tsx bench/raft-idle.ts [--json] [--quick] [--groups N]
import { runWhenMain } from './lib.js'
import type { Figure } from './lib.js'
import { basePort, cpuSeconds, sleep } from './cluster-procs.js'
import { MEMBERS, RaftCluster } from './raft-cluster.js'
import type { RaftHostOptions } from '@troupe/raft'

interface HostCounters {
  messagesSent: number
  batchesSent: number
  pingsSent: number
  groupTicks: number
  groups: number
  quiesced: number
}

interface Idle {
  cpuPercent: number
  messagesPerSec: number
  batchesPerSec: number
  ticksPerSec: number
  quiesced: number
}

async function counters(cluster: RaftCluster): Promise<HostCounters[]> {
  return Promise.all(MEMBERS.map(async (m) => (await cluster.proc(m).call({ cmd: 'stats' }, 30_000)).value as HostCounters))
}

async function measure(groups: number, host: RaftHostOptions, port: number, windowMs: number, wantQuiesced: boolean): Promise<Idle> {
  const t0 = Date.now()
  const cluster = await RaftCluster.start({ port, groups, host })
  try {
    console.error(`  ${groups} groups open on ${MEMBERS.length} processes after ${Date.now() - t0} ms`)
    // One write per group (through the client node), so each has a leader and a log.
    const handles = await Promise.all(Array.from({ length: groups }, (_, i) => cluster.handle(i, 60_000)))
    const t1 = Date.now()
    for (let i = 0; i < groups; i += 100) await Promise.all(handles.slice(i, i + 100).map((h, j) => h.propose({ op: 'put', key: `g${i + j}`, value: 'x' })))
    console.error(`  one write to each group took ${Date.now() - t1} ms`)
    // Settle: every replica quiesced (or, without quiescence, a fixed pause).
    const deadline = Date.now() + 60_000
    for (;;) {
      const c = await counters(cluster)
      const q = c.reduce((a, x) => a + x.quiesced, 0)
      if (!wantQuiesced) {
        await sleep(3000)
        break
      }
      if (q === groups * MEMBERS.length) break
      if (Date.now() > deadline) {
        console.error(`  only ${q} of ${groups * MEMBERS.length} replicas quiesced after 60 s; measuring anyway`)
        break
      }
      await sleep(250)
    }
    const pids = MEMBERS.map((m) => cluster.proc(m).pid)
    const before = await counters(cluster)
    const cpu0 = pids.map(cpuSeconds)
    const w0 = Date.now()
    await sleep(windowMs)
    const cpu1 = pids.map(cpuSeconds)
    const secs = (Date.now() - w0) / 1000
    const after = await counters(cluster)
    const sum = (xs: HostCounters[], k: keyof HostCounters) => xs.reduce((a, x) => a + x[k], 0)
    // The stats calls themselves are asks to the hosts, not raft traffic: they do not count as sent raft messages.
    return {
      cpuPercent: (100 * cpu1.reduce((a, c, i) => a + c - cpu0[i]!, 0)) / secs,
      messagesPerSec: (sum(after, 'messagesSent') - sum(before, 'messagesSent')) / secs,
      batchesPerSec: (sum(after, 'batchesSent') - sum(before, 'batchesSent')) / secs,
      ticksPerSec: (sum(after, 'groupTicks') - sum(before, 'groupTicks')) / secs,
      quiesced: sum(after, 'quiesced'),
    }
  } finally {
    await cluster.stop()
  }
}

const line = (label: string, r: Idle) =>
  console.error(
    `  ${label.padEnd(16)} CPU ${r.cpuPercent.toFixed(1)}% of a core (3 processes)  raft messages ${r.messagesPerSec.toFixed(0)}/s` +
      `  remote tells ${r.batchesPerSec.toFixed(1)}/s  group ticks ${r.ticksPerSec.toFixed(0)}/s  quiesced replicas ${r.quiesced}`,
  )

export async function run(options: { quick?: boolean; groups?: number } = {}): Promise<Figure[]> {
  const groups = options.groups ?? 1000
  const windowMs = options.quick ? 3000 : 10_000
  const port = basePort(32_000)
  const quiet = await measure(groups, {}, port, windowMs, true)
  line('quiescence on', quiet)
  const busy = await measure(groups, { quiesceAfterTicks: 0 }, port + 5, windowMs, false)
  line('quiescence off', busy)
  const base = 'same groups, quiescence off'
  return [
    { bench: 'raft-idle', metric: `CPU, ${groups} idle groups, 3 nodes`, value: quiet.cpuPercent, unit: '% of a core', kind: 'latency', baseline: base, baselineValue: busy.cpuPercent },
    { bench: 'raft-idle', metric: `raft messages/s, ${groups} idle groups`, value: quiet.messagesPerSec, unit: 'msg/s', kind: 'latency', baseline: base, baselineValue: busy.messagesPerSec },
    { bench: 'raft-idle', metric: `remote tells/s, ${groups} idle groups`, value: quiet.batchesPerSec, unit: 'tells/s', kind: 'latency', baseline: base, baselineValue: busy.batchesPerSec },
  ]
}

runWhenMain('raft-idle.ts', (args) => {
  const g = args.indexOf('--groups')
  return run({ quick: args.includes('--quick'), ...(g >= 0 ? { groups: Number(args[g + 1]) } : {}) })
})
