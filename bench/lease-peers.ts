// The baselines of bench/lease.ts, with no npm client: Redis spoken in RESP
// over node:net, etcd's lock service through its JSON gateway over node:http.
// Each server is started here (own ports and data dirs) and killed by PID.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { Agent, request } from 'node:http'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'

export function haveBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// ---- Redis ----

type Reply = string | number | null | Error

/** A pipelined RESP connection: replies come back in request order. */
export class Resp {
  private buf = Buffer.alloc(0)
  private readonly waiting: Array<(r: Reply) => void> = []

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true)
    socket.on('data', (d) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d
      for (;;) {
        const parsed = parse(this.buf, 0)
        if (parsed === null) break
        this.buf = this.buf.subarray(parsed.end)
        this.waiting.shift()?.(parsed.value)
      }
    })
  }

  static open(port: number): Promise<Resp> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new Resp(s)))
      s.once('error', reject)
    })
  }

  call(...args: string[]): Promise<Reply> {
    let out = `*${args.length}\r\n`
    for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`
    return new Promise((resolve) => {
      this.waiting.push(resolve)
      this.socket.write(out)
    })
  }

  close(): void {
    this.socket.destroy()
  }
}

function parse(b: Buffer, at: number): { value: Reply; end: number } | null {
  const eol = b.indexOf('\r\n', at)
  if (eol < 0) return null
  const line = b.toString('utf8', at + 1, eol)
  switch (String.fromCharCode(b[at]!)) {
    case '+':
      return { value: line, end: eol + 2 }
    case '-':
      return { value: new Error(line), end: eol + 2 }
    case ':':
      return { value: Number(line), end: eol + 2 }
    case '$': {
      const n = Number(line)
      if (n < 0) return { value: null, end: eol + 2 }
      if (b.length < eol + 2 + n + 2) return null
      return { value: b.toString('utf8', eol + 2, eol + 2 + n), end: eol + 2 + n + 2 }
    }
    default:
      throw new Error(`unexpected RESP reply ${JSON.stringify(b.toString('utf8', at, eol))}`)
  }
}

export interface Server {
  stop(): void
}

export async function startRedis(port: number): Promise<Server> {
  const child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  for (let i = 0; i < 100; i++) {
    try {
      const c = await Resp.open(port)
      c.close()
      return { stop: () => kill(child) }
    } catch {
      await sleep(50)
    }
  }
  kill(child)
  throw new Error('redis-server did not start')
}

const UNLOCK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"

/** SET NX PX + Lua compare-and-delete: fast, unfenced, not safe under pauses (the speed reference). */
export class RedisLock {
  private seq = 0
  private constructor(
    private readonly conn: Resp,
    private readonly sha: string,
  ) {}

  static async open(port: number): Promise<RedisLock> {
    const conn = await Resp.open(port)
    const sha = (await conn.call('SCRIPT', 'LOAD', UNLOCK)) as string
    return new RedisLock(conn, sha)
  }

  /** Acquires `key` (spinning every `retryMs` while held) and releases it. */
  async pair(key: string, retryMs = 1): Promise<void> {
    const tok = `t${++this.seq}`
    while ((await this.conn.call('SET', key, tok, 'NX', 'PX', '10000')) !== 'OK') await sleep(retryMs)
    if ((await this.conn.call('EVALSHA', this.sha, '1', key, tok)) !== 1) throw new Error(`redis release of ${key} failed`)
  }

  close(): void {
    this.conn.close()
  }
}

// ---- etcd ----

export interface EtcdCluster extends Server {
  endpoints: string[]
}

/** Three etcd members on loopback (fsync on, as shipped), data in a temp dir. */
export async function startEtcd(basePort: number): Promise<EtcdCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'lease-bench-etcd-'))
  const names = ['e1', 'e2', 'e3']
  const peer = (i: number) => `http://127.0.0.1:${basePort + 10 + i}`
  const client = (i: number) => `http://127.0.0.1:${basePort + i}`
  const cluster = names.map((n, i) => `${n}=${peer(i)}`).join(',')
  const children = names.map((n, i) =>
    spawn('etcd', [
      '--name', n, '--data-dir', join(dir, n), '--logger', 'zap', '--log-outputs', join(dir, `${n}.log`),
      '--listen-client-urls', client(i), '--advertise-client-urls', client(i),
      '--listen-peer-urls', peer(i), '--initial-advertise-peer-urls', peer(i),
      '--initial-cluster', cluster, '--initial-cluster-state', 'new', '--initial-cluster-token', 'lease-bench',
    ], { stdio: 'ignore' }),
  )
  const stop = () => {
    for (const c of children) kill(c)
    rmSync(dir, { recursive: true, force: true })
  }
  const endpoints = names.map((_, i) => client(i))
  for (let i = 0; i < 200; i++) {
    const ok = await Promise.all(endpoints.map((e) => get(`${e}/health`).then((b) => /"true"/.test(b), () => false)))
    if (ok.every(Boolean)) return { endpoints, stop }
    await sleep(100)
  }
  stop()
  throw new Error('etcd cluster did not become healthy')
}

const agent = new Agent({ keepAlive: true, maxSockets: 128 })

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve(body))
    })
      .on('error', reject)
      .end()
  })
}

function post(url: string, json: unknown): Promise<any> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(json)
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => {
        const parsed = JSON.parse(body)
        if (res.statusCode !== 200 || parsed.error) reject(new Error(`etcd ${url}: ${body}`))
        else resolve(parsed)
      })
    })
    req.on('error', reject)
    req.end(data)
  })
}

/**
 * etcd's own lock, as the etcd3 client's Lock does it: grant a lease, lock
 * the name under it (etcd queues contenders by revision), revoke the lease to
 * release. Over the JSON gateway (one HTTP request per gRPC call).
 */
export async function etcdLockPair(endpoint: string, name: string): Promise<void> {
  const { ID } = await post(`${endpoint}/v3/lease/grant`, { TTL: 10 })
  await post(`${endpoint}/v3/lock/lock`, { name: Buffer.from(name).toString('base64'), lease: ID })
  await post(`${endpoint}/v3/lease/revoke`, { ID })
}

/** The member that leads (its endpoint), so requests do not pay a forwarding hop. */
export async function etcdLeader(endpoints: string[]): Promise<string> {
  for (const e of endpoints) {
    const s = await post(`${e}/v3/maintenance/status`, {})
    if (s.leader === s.header.member_id) return e
  }
  return endpoints[0]!
}

function kill(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null) {
    try {
      process.kill(child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}
