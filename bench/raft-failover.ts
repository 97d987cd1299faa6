// Leader failover: SIGKILL the leader of a 3-member group, then time until a
// put succeeds again, three times (median). Troupe: 3 member processes
// (WriteAheadLog, fdatasync); this process fires a fresh put every 10 ms
// (2 s deadline each), alternately through the two survivors' own group
// handles (they forward to the leader they know). etcd 3.4: 3 members, the
// same loop against the two survivors' client ports, the approach of
// ../shared/bench/peers/bench-etcd-failover.mjs. Both in the same run.
// The killed member is restarted from its data dir before the next round.
// Two Troupe cases: an active group (written to right before the kill) and a
// quiesced one (idle for 2 s first: its followers notice the dead leader by
// the node liveness timeout instead of missed heartbeats).
//   node --conditions=source --import tsx bench/raft-failover.ts [--json] [--quick]
import { median, nowMs, runWhenMain } from './lib.js'
import type { Figure } from './lib.js'
import { basePort, EtcdCluster, haveBinary, sleep } from './cluster-procs.js'
import { MEMBERS, RaftCluster } from './raft-cluster.js'

const FIRE_EVERY_MS = 10
const PUT_DEADLINE_MS = 2000
const GIVE_UP_MS = 20_000

/** Fires `put` every FIRE_EVERY_MS from t0 until one succeeds; ms from t0 to that success. */
function firstSuccess(t0: number, put: (n: number) => Promise<unknown>): Promise<number> {
  return new Promise((resolve, reject) => {
    let done = false
    let fired = 0
    const tick = setInterval(() => {
      if (done) return
      if (nowMs() - t0 > GIVE_UP_MS) {
        done = true
        clearInterval(tick)
        return reject(new Error(`no successful put within ${GIVE_UP_MS} ms of the kill`))
      }
      put(++fired).then(
        () => {
          if (done) return
          done = true
          clearInterval(tick)
          resolve(nowMs() - t0)
        },
        () => {},
      )
    }, FIRE_EVERY_MS)
  })
}

/** A put through member `name`'s own group handle (it forwards to the leader it knows). */
async function putVia(cluster: RaftCluster, name: string, key: string, timeoutMs: number): Promise<void> {
  const r = await cluster.proc(name).call({ cmd: 'put', key, value: 'x', timeoutMs }, timeoutMs + 1000)
  if (!r.ok) throw new Error(`${name}: ${String(r.code)} ${String(r.message)}`)
}

async function troupeRound(cluster: RaftCluster, idleMs: number, round: number): Promise<number> {
  // Every member up, caught up and agreeing on the leader.
  const leader = await cluster.leader(0, 30_000)
  const survivors = MEMBERS.filter((m) => m !== leader)
  for (let i = 0; i < 20; i++) await putVia(cluster, survivors[i % 2]!, `warm-${i}`, 5000)
  if (idleMs > 0) {
    await sleep(idleMs)
    const st = await cluster.status(leader)
    if (!st?.quiesced) console.error(`  (round ${round}: the group had not quiesced after ${idleMs} ms idle)`)
  }
  const t0 = nowMs()
  await cluster.kill(leader)
  const ms = await firstSuccess(t0, (n) => putVia(cluster, survivors[n % 2]!, `f${round}-${n}`, PUT_DEADLINE_MS))
  const next = await cluster.leader(0, 10_000).catch(() => '?')
  console.error(`  troupe${idleMs > 0 ? ' (quiesced)' : ''}: killed leader ${leader}; put OK after ${ms.toFixed(0)} ms; new leader ${next}`)
  await cluster.restart(leader)
  return ms
}

async function etcdRound(etcd: EtcdCluster): Promise<number> {
  await etcd.waitHealthy(30_000)
  const leader = await etcd.leader()
  const survivors = etcd.endpoints.filter((_, i) => i !== leader)
  for (let i = 0; i < 20; i++) await etcd.put(survivors[i % 2]!, 'failover/warm', 'x')
  const t0 = nowMs()
  etcd.kill(leader)
  const ms = await firstSuccess(t0, (n) => etcd.put(survivors[n % 2]!, 'failover/k', String(n), PUT_DEADLINE_MS))
  console.error(`  etcd: killed leader e${leader + 1}; put OK after ${ms.toFixed(0)} ms; new leader e${(await etcd.leader().catch(() => -1)) + 1}`)
  etcd.restart(leader)
  await sleep(1000)
  return ms
}

export async function run(options: { quick?: boolean } = {}): Promise<Figure[]> {
  const rounds = options.quick ? 1 : 3
  const port = basePort(31_000)
  const active: number[] = []
  const quiesced: number[] = []
  const etcd: number[] = []

  const cluster = await RaftCluster.start({ port })
  try {
    for (let r = 0; r < rounds; r++) active.push(await troupeRound(cluster, 0, r))
    for (let r = 0; r < rounds; r++) quiesced.push(await troupeRound(cluster, 2000, rounds + r))
  } finally {
    await cluster.stop()
  }

  if (haveBinary('etcd')) {
    const e = await EtcdCluster.start(port + 5)
    try {
      for (let r = 0; r < rounds; r++) etcd.push(await etcdRound(e))
    } finally {
      e.stop()
    }
  } else console.error('  etcd not installed (apt-get install etcd-server): no etcd figures')

  const base = etcd.length ? { baseline: 'etcd 3.4, 3 members, kill -9 leader -> put OK', baselineValue: median(etcd) } : { baseline: null, baselineValue: null }
  return [
    { bench: 'raft-failover', metric: 'kill -9 leader -> put OK, active group', value: median(active), unit: 'ms', kind: 'latency', ...base },
    { bench: 'raft-failover', metric: 'kill -9 leader -> put OK, quiesced group', value: median(quiesced), unit: 'ms', kind: 'latency', ...base },
  ]
}

runWhenMain('raft-failover.ts', (args) => run({ quick: args.includes('--quick') }))
