// A node's port under an unauthenticated flood: how long a legitimate node,
// holding the secret and starting during the flood, needs to serve its first
// ask, and the flooded node's peak memory (RSS). Baseline in the same run:
// the same join against a node nobody floods.
//
// Three processes: the node (bench/remote-peer.ts troupe, on 127.0.0.1), the
// flooder (this file with `flooder`: raw TCP connections that never speak and
// WebSockets that upgrade and stay silent, from 127.0.0.2-9, each held until
// the node drops it), and this one, whose node joins from 127.0.0.10.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { createInterface } from 'node:readline'
import { WebSocket } from 'ws'
import { ActorSystem, WebSocketTransport } from '@troupe/runtime'
import { ROOT, sleep } from './cluster-procs.js'
import { nowMs, runWhenMain } from './lib.js'
import type { Figure } from './lib.js'
import { BENCH_SECRET } from './remote-lib.js'
import type { EchoP } from './remote-lib.js'

const ATTACKERS = [2, 3, 4, 5, 6, 7, 8, 9].map((i) => `127.0.0.${i}`)
/** Flood bounds: per 10 ms tick, and in all. */
const RAW_PER_TICK = 20
const SILENT_PER_TICK = 1
const MAX_RAW = 60_000
const MAX_SILENT = 3_000
/** How long the join may take before the bench gives up on it (the figure is then this cap). */
const JOIN_CAP_MS = 30_000

interface Node {
  child: ChildProcess
  url: string
  /** Peak resident set of the node's process so far (Linux VmHWM), in bytes. */
  peakRss(): number
  stop(): void
}

async function spawnNode(): Promise<Node> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'bench/remote-peer.ts', 'troupe'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'ignore'] })
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve)
    child.once('exit', (code) => reject(new Error(`node exited with ${code}`)))
  })
  const port = (JSON.parse(line) as { port: number }).port
  return {
    child,
    url: `ws://127.0.0.1:${port}`,
    peakRss: () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024,
    stop: () => {
      child.stdin!.end()
      if (child.exitCode === null) child.kill('SIGTERM')
    },
  }
}

/** A node on 127.0.0.10 joins `url` and asks its echo actor until one ask succeeds; ms from its start. */
async function join(url: string): Promise<number> {
  const transport = new WebSocketTransport({ listen: null, localAddress: '127.0.0.10', peers: { peer: url }, secret: BENCH_SECRET, log: () => {} })
  const system = new ActorSystem({ name: 'joiner', transport, askTimeoutMs: 1000 })
  const t0 = nowMs()
  await system.start()
  const echo = system.remoteRef<EchoP>('peer', '/user/echo')
  try {
    while (nowMs() - t0 < JOIN_CAP_MS) {
      try {
        if ((await echo.ask('echo', 1)) === 1) return nowMs() - t0
      } catch {
        // timed out or dropped: ask again
      }
    }
    return JOIN_CAP_MS
  } finally {
    await system.terminate()
  }
}

/** The flooder process: floods `port` until stdin closes or `seconds` pass, then prints what it opened. */
function flooder(port: number, seconds: number): void {
  const held = new Set<Socket | WebSocket>()
  const opened = { raw: 0, silent: 0 }
  let next = 0
  const from = () => ATTACKERS[next++ % ATTACKERS.length]
  const tick = setInterval(() => {
    for (let i = 0; i < RAW_PER_TICK && opened.raw < MAX_RAW; i++, opened.raw++) {
      const s = connect({ host: '127.0.0.1', port, localAddress: from() })
      held.add(s)
      s.on('error', () => {}).on('close', () => held.delete(s))
    }
    for (let i = 0; i < SILENT_PER_TICK && opened.silent < MAX_SILENT; i++, opened.silent++) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`, { localAddress: from(), perMessageDeflate: false })
      held.add(ws)
      ws.on('error', () => {}).on('close', () => held.delete(ws))
    }
  }, 10)
  const end = () => {
    clearInterval(tick)
    process.stdout.write(`${JSON.stringify(opened)}\n`)
    for (const s of held) s instanceof WebSocket ? s.terminate() : s.destroy()
    process.exit(0)
  }
  setTimeout(end, seconds * 1000)
  process.stdin.on('end', end).resume()
}

async function flooded(url: string, seconds: number): Promise<{ joinMs: number; opened: { raw: number; silent: number } }> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'bench/flood.ts', 'flooder', new URL(url).port, String(seconds)], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] })
  const report = new Promise<{ raw: number; silent: number }>((resolve) => createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l))))
  // Let the flood fill the node's pending places before the legitimate node starts.
  await sleep(3000)
  const joinMs = await join(url)
  // The flood runs its full time, so the node's peak memory is the flood's.
  return { joinMs, opened: await report }
}

export async function run(options: { quick?: boolean } = {}): Promise<Figure[]> {
  const seconds = options.quick ? 10 : 30
  const quiet = await spawnNode()
  const baselineMs = await join(quiet.url)
  const quietRss = quiet.peakRss()
  quiet.stop()
  const node = await spawnNode()
  try {
    const { joinMs, opened } = await flooded(node.url, seconds)
    const baseline = 'the same join, no flood'
    console.error(`flood: ${opened.raw} raw connections and ${opened.silent} silent WebSockets from 8 addresses (at most ${seconds} s)`)
    return [
      { bench: 'flood', metric: 'join to first ask, flooded', value: joinMs, unit: 'ms', kind: 'latency', baseline, baselineValue: baselineMs },
      { bench: 'flood', metric: 'flooded node peak RSS', value: node.peakRss() / 2 ** 20, unit: 'MiB', kind: 'size', baseline: 'the node not flooded', baselineValue: quietRss / 2 ** 20 },
    ]
  } finally {
    node.stop()
  }
}

if (process.argv[1]?.endsWith('flood.ts') && process.argv[2] === 'flooder') flooder(Number(process.argv[3]), Number(process.argv[4]))
else runWhenMain('flood.ts', (args) => run({ quick: args.includes('--quick') }))
