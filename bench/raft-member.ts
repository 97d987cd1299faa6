// One Raft node for the bench/raft-*.ts benchmarks, in its own process:
//   node --conditions=source --import tsx bench/raft-member.ts '<json MemberConfig>'
// Listens on its port, keeps every group's log in one WriteAheadLog (fdatasync)
// under dataDir, opens `groups` key-value groups and prints {"event":"ready"}.
// Then it answers JSON-line commands on stdin (see `command`), and exits when
// stdin closes or on SIGTERM. RAFT_STORAGE=memory keeps the logs in memory
// instead (no fsync), to see what the disk costs; RAFT_DURABLE_APPEND=pool
// runs each flush's fdatasync on the thread pool instead of the loop's thread.
import { mkdirSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { ActorSystem, NodeDisk, WebSocketTransport } from '@troupe/runtime'
import { group, MemoryLogStorage, raftHost, RAFT_HOST_PATH, WriteAheadLog } from '@troupe/raft'
import type { ActorRef } from '@troupe/runtime'
import { closedLoop } from './lib.js'
import type { HostStats, RaftGroup, RaftHostOptions, StateMachine } from '@troupe/raft'

export const RAFT_BENCH_SECRET = 'raft-bench-secret-0123456789abcdef'

export interface MemberConfig {
  name: string
  dataDir: string
  port: number
  /** Every member's name → ws:// URL (its own included). */
  peers: Record<string, string>
  members: string[]
  /** Group ids are `${groupPrefix}${i}` for i < groups (just `groupPrefix` when groups is 1). */
  groupPrefix: string
  groups: number
  host?: RaftHostOptions
}

export type KvCommand = { op: 'put'; key: string; value: string }
export type KvQuery = { op: 'get'; key: string }

/** The smallest useful key-value state machine: put and get. */
export class Kv implements StateMachine<KvCommand, null, KvQuery, string | null> {
  private data = new Map<string, string>()
  apply(c: KvCommand): null {
    this.data.set(c.key, c.value)
    return null
  }
  snapshot(): unknown {
    return [...this.data]
  }
  restore(s: unknown): void {
    this.data = new Map(s as Array<[string, string]>)
  }
  query(q: KvQuery): string | null {
    return this.data.get(q.key) ?? null
  }
}

export const groupId = (prefix: string, count: number, i: number): string => (count === 1 ? prefix : `${prefix}${i}`)

async function main(): Promise<void> {
  const c = JSON.parse(process.argv[2]!) as MemberConfig
  const out = (o: Record<string, unknown>) => void process.stdout.write(`${JSON.stringify({ node: c.name, ...o })}\n`)
  mkdirSync(c.dataDir, { recursive: true })
  const transport = new WebSocketTransport({
    listen: { host: '127.0.0.1', port: c.port },
    peers: Object.fromEntries(Object.entries(c.peers).filter(([n]) => n !== c.name)),
    secret: RAFT_BENCH_SECRET,
    maxBufferedBytes: 64 * 1024 * 1024,
    reconnect: { minMs: 50, maxMs: 500 },
    log: () => {},
  })
  const system = new ActorSystem({ name: c.name, transport })
  await system.start()
  const durableAppend = process.env.RAFT_DURABLE_APPEND === 'pool' ? 'pool' : 'inline'
  const disk = new NodeDisk(c.dataDir, { durableAppend })
  const wal = await WriteAheadLog.open(disk, { dir: 'raft' })
  raftHost(system, c.host)
  const handles: RaftGroup<KvCommand, null, KvQuery, string | null>[] = []
  for (let i = 0; i < c.groups; i++) {
    handles.push(await group(system, { id: groupId(c.groupPrefix, c.groups, i), members: c.members, stateMachine: () => new Kv(), storage: process.env.RAFT_STORAGE === 'memory' ? new MemoryLogStorage() : wal, requestTimeoutMs: 10_000 }))
  }
  const host = system.lookup(RAFT_HOST_PATH) as ActorRef<{ stats(): HostStats }>
  out({ event: 'ready', pid: process.pid })

  const command = async (m: { id: number; cmd: string; group?: number; key?: string; value?: string; timeoutMs?: number; ops?: number; inflight?: number }): Promise<void> => {
    try {
      switch (m.cmd) {
        case 'status':
          return out({ id: m.id, ok: true, value: await handles[m.group ?? 0]!.status() })
        case 'stats': {
          const stats = await host.ask('stats')
          return out({ id: m.id, ok: true, value: { ...stats, wal: wal.stats, cpu: process.cpuUsage() } })
        }
        case 'put':
          await handles[m.group ?? 0]!.propose({ op: 'put', key: m.key!, value: m.value! }, { timeoutMs: m.timeoutMs ?? 10_000 })
          return out({ id: m.id, ok: true })
        case 'loop': {
          // Puts from a handle on this node, `inflight` at a time: the cost without a client hop.
          const kv = handles[m.group ?? 0]!
          const r = await closedLoop(m.ops ?? 1000, m.inflight ?? 1, (i) => kv.propose({ op: 'put', key: `l${String(i).padStart(7, '0')}`, value: 'v1234567' }))
          return out({ id: m.id, ok: true, value: r })
        }
        case 'get':
          return out({ id: m.id, ok: true, value: await handles[m.group ?? 0]!.read({ op: 'get', key: m.key! }) })
      }
      out({ id: m.id, ok: false, code: 'UNKNOWN_COMMAND' })
    } catch (err) {
      out({ id: m.id, ok: false, code: (err as { code?: string }).code ?? 'ERROR', message: String(err) })
    }
  }
  const stop = () => void system.terminate().finally(() => process.exit(0))
  createInterface({ input: process.stdin })
    .on('line', (line) => line.trim() && void command(JSON.parse(line)))
    .on('close', stop)
  process.on('SIGTERM', stop)
}

if (process.argv[1]?.endsWith('raft-member.ts')) void main()
