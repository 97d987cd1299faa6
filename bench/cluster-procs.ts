// Pieces shared by the multi-process benchmarks: child Node processes that
// talk in JSON lines, per-run port ranges, CPU time of a process, and a
// 3-member etcd 3.4 cluster (started, killed member by member and restarted
// here; driven through its HTTP/JSON gateway, so no npm client is needed).
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ScriptProcess } from '../test/support/child-process.js'

export { ROOT, killAll } from '../test/support/child-process.js'
export type { ChildEvent } from '../test/support/child-process.js'

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export function haveBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0
}

/** A block of `span` ports of this run's own, so concurrent runs on one machine rarely collide. */
export function basePort(offset: number, span = 40): number {
  return offset + (process.pid % 200) * span
}

/** Seconds of CPU (user + system) a process used so far, from /proc (Linux); NaN elsewhere. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // Fields 14 and 15 of stat (utime, stime), counted from after the command name.
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return NaN
  }
}

/**
 * A TypeScript entry point run as its own Node process, talking in JSON
 * lines (see test/support/child-process.ts); BENCH_VERBOSE=1 copies its
 * stderr to ours.
 */
export class ChildProc extends ScriptProcess {
  constructor(name: string, entry: string, args: string[] = [], options: { nodeArgs?: string[]; env?: Record<string, string> } = {}) {
    super(name, entry, { ...options, args, echoStderr: Boolean(process.env.BENCH_VERBOSE) })
  }
}

// ---- etcd 3.4 ----

const httpAgent = new Agent({ keepAlive: true, maxSockets: 256 })

/** One POST to etcd's JSON gateway; rejects on a non-200 status or an error body. */
export function etcdPost(url: string, json: unknown, timeoutMs = 10_000): Promise<any> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(json)
    const req = request(url, { method: 'POST', agent: httpAgent, timeout: timeoutMs, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => {
        let parsed: any
        try {
          parsed = JSON.parse(body)
        } catch {
          return reject(new Error(`etcd ${url}: ${res.statusCode} ${body}`))
        }
        if (res.statusCode !== 200 || parsed.error) reject(new Error(`etcd ${url}: ${body}`))
        else resolve(parsed)
      })
    })
    req.on('timeout', () => req.destroy(new Error(`etcd ${url}: no answer within ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end(data)
  })
}

const b64 = (s: string) => Buffer.from(s).toString('base64')

/**
 * Three etcd members on loopback (fsync on, as shipped), data in a temp dir.
 * Members can be SIGKILLed and restarted from their data dirs.
 */
export class EtcdCluster {
  readonly endpoints: string[]
  private readonly children: Array<ChildProcess | null>
  private readonly names = ['e1', 'e2', 'e3']

  private constructor(
    private readonly dir: string,
    private readonly basePort: number,
  ) {
    this.endpoints = this.names.map((_, i) => this.clientUrl(i))
    this.children = this.names.map(() => null)
  }

  /** Clients on basePort..+2, peers on basePort+10..+12. */
  static async start(basePort: number): Promise<EtcdCluster> {
    const c = new EtcdCluster(mkdtempSync(join(tmpdir(), 'raft-bench-etcd-')), basePort)
    for (let i = 0; i < 3; i++) c.startMember(i, 'new')
    try {
      await c.waitHealthy(20_000)
    } catch (err) {
      c.stop()
      throw err
    }
    return c
  }

  private clientUrl(i: number): string {
    return `http://127.0.0.1:${this.basePort + i}`
  }

  private peerUrl(i: number): string {
    return `http://127.0.0.1:${this.basePort + 10 + i}`
  }

  private startMember(i: number, state: 'new' | 'existing'): void {
    const n = this.names[i]!
    const cluster = this.names.map((m, j) => `${m}=${this.peerUrl(j)}`).join(',')
    this.children[i] = spawn('etcd', [
      '--name', n, '--data-dir', join(this.dir, n), '--logger', 'zap', '--log-outputs', join(this.dir, `${n}.log`),
      '--listen-client-urls', this.clientUrl(i), '--advertise-client-urls', this.clientUrl(i),
      '--listen-peer-urls', this.peerUrl(i), '--initial-advertise-peer-urls', this.peerUrl(i),
      '--initial-cluster', cluster, '--initial-cluster-state', state, '--initial-cluster-token', 'raft-bench',
    ], { stdio: 'ignore' })
  }

  /** Every live member answers /health with true and one of them leads. */
  async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const live = this.endpoints.filter((_, i) => this.children[i] !== null)
      const ok = await Promise.all(live.map((e) => get(`${e}/health`).then((b) => /"true"/.test(b), () => false)))
      if (ok.every(Boolean) && (await this.leader().catch(() => null)) !== null) return
      await sleep(100)
    }
    throw new Error(`etcd cluster not healthy within ${timeoutMs} ms (logs in ${this.dir})`)
  }

  /** Index of the member that leads, as the live members see it. */
  async leader(): Promise<number> {
    for (let i = 0; i < 3; i++) {
      if (this.children[i] === null) continue
      const s = await etcdPost(`${this.endpoints[i]}/v3/maintenance/status`, {}, 1000).catch(() => null)
      if (s !== null && s.leader !== undefined && s.leader === s.header.member_id) return i
    }
    throw new Error('no etcd member leads')
  }

  /** Process ids of the live members. */
  pids(): number[] {
    return this.children.flatMap((c) => (c?.pid === undefined ? [] : [c.pid]))
  }

  put(endpoint: string, key: string, value: string, timeoutMs?: number): Promise<unknown> {
    return etcdPost(`${endpoint}/v3/kv/put`, { key: b64(key), value: b64(value) }, timeoutMs)
  }

  kill(i: number): void {
    const child = this.children[i]
    this.children[i] = null
    if (child) killChild(child)
  }

  restart(i: number): void {
    if (this.children[i] === null) this.startMember(i, 'existing')
  }

  stop(): void {
    for (let i = 0; i < 3; i++) this.kill(i)
    rmSync(this.dir, { recursive: true, force: true })
  }
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: httpAgent, timeout: 1000 }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve(body))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject).end()
  })
}

function killChild(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}
