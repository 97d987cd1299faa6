// Three Raft member processes (bench/raft-member.ts) on loopback and a client
// node in this process that reaches them over WebSocket, for the raft benches.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ActorSystem } from '@troupe/runtime'
import { group } from '@troupe/raft'
import type { GroupStatus, RaftGroup, RaftHostOptions } from '@troupe/raft'
import { ChildProc, killAll } from './cluster-procs.js'
import { loopbackPeers, startClient, startMembers } from './peers.js'
import { groupId, RAFT_BENCH_SECRET } from './raft-member.js'
import type { KvCommand, KvQuery, MemberConfig } from './raft-member.js'

export const MEMBERS = ['r1', 'r2', 'r3']
const STARTUP_MS = 60_000

export interface ClusterOptions {
  /** First of 4 ports: the client, then r1..r3. */
  port: number
  groups?: number
  host?: RaftHostOptions
  /** Extra node flags for the members (e.g. --cpu-prof). */
  nodeArgs?: string[]
}

export type KvHandle = RaftGroup<KvCommand, null, KvQuery, string | null>

export class RaftCluster {
  readonly procs = new Map<string, ChildProc>()
  private readonly configs = new Map<string, MemberConfig>()
  client: ActorSystem | null = null

  private constructor(
    private readonly dir: string,
    private readonly o: ClusterOptions,
  ) {}

  static async start(o: ClusterOptions): Promise<RaftCluster> {
    const c = new RaftCluster(mkdtempSync(join(tmpdir(), 'raft-bench-')), o)
    try {
      await c.boot()
    } catch (err) {
      await c.stop()
      throw err
    }
    return c
  }

  private async boot(): Promise<void> {
    const peers = loopbackPeers(this.o.port, MEMBERS, { client: true })
    MEMBERS.forEach((name, i) => {
      this.configs.set(name, {
        name, dataDir: join(this.dir, name), port: this.o.port + i + 1, peers, members: MEMBERS,
        groupPrefix: 'kv', groups: this.o.groups ?? 1, ...(this.o.host ? { host: this.o.host } : {}),
      })
      this.spawn(name)
    })
    await startMembers([...this.procs.values()], STARTUP_MS)
    this.client = await startClient(peers, RAFT_BENCH_SECRET, { reconnect: { minMs: 50, maxMs: 500 }, log: () => {} })
  }

  private spawn(name: string): ChildProc {
    const p = new ChildProc(name, 'bench/raft-member.ts', [JSON.stringify(this.configs.get(name))], { nodeArgs: this.o.nodeArgs ?? [] })
    this.procs.set(name, p)
    return p
  }

  /** A handle on group `i` from the client node (a proxy: it forwards to the members). */
  async handle(i = 0, timeoutMs = 10_000): Promise<KvHandle> {
    return group(this.client!, { id: groupId('kv', this.o.groups ?? 1, i), members: MEMBERS, requestTimeoutMs: timeoutMs })
  }

  proc(name: string): ChildProc {
    return this.procs.get(name)!
  }

  async status(name: string, i = 0): Promise<GroupStatus | null> {
    const r = await this.proc(name).call({ cmd: 'status', group: i }, 5000)
    return (r.value as GroupStatus | null) ?? null
  }

  /** The member every live member agrees leads group `i` (waits for one). */
  async leader(i = 0, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const live = MEMBERS.filter((m) => this.proc(m).alive)
      const st = await Promise.all(live.map((m) => this.status(m, i).catch(() => null)))
      const leaders = st.filter((s) => s?.role === 'leader')
      if (leaders.length === 1 && st.every((s) => s?.leader === leaders[0]!.node && s.term === leaders[0]!.term)) return leaders[0]!.node
      if (Date.now() > deadline) throw new Error(`no agreed leader of group ${i} within ${timeoutMs} ms: ${JSON.stringify(st)}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  kill(name: string): Promise<unknown> {
    const p = this.proc(name)
    p.kill('SIGKILL')
    return p.exited
  }

  /** Starts a killed member again from its data dir; resolves when its groups are open. */
  async restart(name: string): Promise<void> {
    await startMembers([this.spawn(name)], STARTUP_MS)
  }

  async stop(): Promise<void> {
    await this.client?.terminate().catch(() => {})
    await Promise.all([...this.procs.values()].map((p) => p.stop()))
    await killAll([...this.procs.values()])
    rmSync(this.dir, { recursive: true, force: true })
  }
}
