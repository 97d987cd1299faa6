// Start-up shared by the multi-process benchmarks: the loopback addresses of
// the member processes and of the bench's own client node, the members
// themselves (spawned, then waited for until each says it is ready), and the
// client node that reaches them over WebSocket.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { ActorSystem, WebSocketTransport } from '@troupe/runtime'
import type { WebSocketTransportOptions } from '@troupe/runtime'
import { ChildProc, ROOT } from './cluster-procs.js'

/** The client node of a bench run in this process. */
export const CLIENT = 'bench'

/**
 * `ws://` URLs on consecutive loopback ports from `basePort`: the client
 * node first (with `client`), then each member.
 */
export function loopbackPeers(basePort: number, members: readonly string[], options: { client?: boolean } = {}): Record<string, string> {
  const url = (i: number) => `ws://127.0.0.1:${basePort + i}`
  const first = options.client ? 1 : 0
  const peers: Record<string, string> = options.client ? { [CLIENT]: url(0) } : {}
  members.forEach((m, i) => (peers[m] = url(i + first)))
  return peers
}

/**
 * The bench's client node: listens on its own address in `peers` and dials
 * the others; 64 MiB of send buffer so the bench, not the socket, sets the pace.
 */
export async function startClient(peers: Record<string, string>, secret: string, extra: Partial<WebSocketTransportOptions> = {}): Promise<ActorSystem> {
  const transport = new WebSocketTransport({
    listen: { host: '127.0.0.1', port: Number(new URL(peers[CLIENT]!).port) },
    peers: Object.fromEntries(Object.entries(peers).filter(([n]) => n !== CLIENT)),
    secret,
    maxBufferedBytes: 64 * 1024 * 1024,
    ...extra,
  })
  const system = new ActorSystem({ name: CLIENT, transport })
  await system.start()
  return system
}

/** Members that speak JSON lines (ChildProc), started at once; resolves when every one printed {"event":"ready"}. */
export async function startMembers(members: readonly ChildProc[], timeoutMs: number): Promise<void> {
  await Promise.all(members.map((p) => p.waitFor((e) => e.event === 'ready', 'ready', timeoutMs)))
}

/** A member that prints "ready", then one line per command written to its stdin. */
export interface LineMember {
  readonly child: ChildProcess
  /** Resolves on "ready"; rejects if the process exits first. */
  readonly started: Promise<void>
  /** Writes `command` as a line and resolves with the next line the member prints. */
  send(command: unknown): Promise<string>
  stop(): void
}

/** Spawns `entry` (relative to the repository root) with `args`; see LineMember. */
export function spawnLineMember(entry: string, args: string[]): LineMember {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', entry, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] })
  const waiting: Array<(line: string) => void> = []
  let ready!: () => void
  const started = new Promise<void>((resolve, reject) => {
    ready = resolve
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code}`)))
  })
  createInterface({ input: child.stdout! }).on('line', (line) => (line === 'ready' ? ready() : waiting.shift()?.(line)))
  return {
    child,
    started,
    send(command) {
      const reply = new Promise<string>((resolve) => waiting.push(resolve))
      child.stdin!.write(`${JSON.stringify(command)}\n`)
      return reply
    },
    stop() {
      child.stdin!.end()
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM')
    },
  }
}
