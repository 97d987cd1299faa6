// One member of the saga log group for bench/saga.ts, in its own process:
//   node --conditions=source --import tsx bench/saga-member.ts <name> <dataDir> <json peers {name: url}>
// Keeps the Raft saga log in a WriteAheadLog (fdatasync) under dataDir and runs a
// SagaCoordinator on it. JSON-line commands on stdin:
//   {"id":1,"cmd":"role"}                          → {"id":1,"leader":true|false}
//   {"id":2,"cmd":"run","total":N,"window":W}      → {"id":2,"rate":..,"p50":..,"p99":..}
// Prints {"event":"ready"} once the group is open; exits when stdin closes.
import { createInterface } from 'node:readline'
import { group } from '@troupe/raft'
import { RaftSagaLog, SagaCoordinator, SagaStateMachine } from '@troupe/saga'
import { startMemberNode } from './member-node.js'
import { benchSaga, closedSagaLoop } from './saga-workload.js'

export const SAGA_BENCH_SECRET = 'saga-bench-secret-0123456789abcdef'
export const SAGA_BENCH_MEMBERS = ['m1', 'm2', 'm3']

async function main(): Promise<void> {
  const { name, system, wal } = await startMemberNode(SAGA_BENCH_SECRET)
  const handle = await group(system, {
    id: 'bench-sagas',
    members: SAGA_BENCH_MEMBERS,
    stateMachine: () => new SagaStateMachine({ retainFinished: 100_000 }),
    storage: wal,
    requestTimeoutMs: 10_000,
    maxInflight: 4096,
  })
  const log = RaftSagaLog.over(handle as never)
  const { def } = benchSaga(system)
  const coordinator = new SagaCoordinator({ system, log, definitions: [def] })
  const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`)
  out({ event: 'ready' })
  let runs = 0
  createInterface({ input: process.stdin }).on('line', (line) => {
    const c = JSON.parse(line) as { id: number; cmd: string; total?: number; window?: number }
    if (c.cmd === 'role') {
      void handle.status().then((s) => out({ id: c.id, leader: s?.role === 'leader' }))
    } else if (c.cmd === 'run') {
      const prefix = `${name}-r${++runs}`
      closedSagaLoop(c.total!, c.window!, (i) => coordinator.run(def, { n: i }, { id: `${prefix}-${i}` })).then(
        (r) => out({ id: c.id, ...r }),
        (err) => out({ id: c.id, error: String(err) }),
      )
    }
  })
  const stop = () => {
    void coordinator.close().finally(() => system.terminate().finally(() => process.exit(0)))
  }
  process.stdin.on('end', stop)
  process.on('SIGTERM', stop)
}

if (process.argv[1]?.endsWith('saga-member.ts')) void main()
