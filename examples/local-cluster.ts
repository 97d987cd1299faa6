// A local cluster on loopback: N node processes of one app (default 3,
// named a, b, c, on cluster ports basePort.. and HTTP ports baseHttp..),
// each started as `<entry> --name <n> --port <p> --http <h> --seeds <all>`.
// A node that exits with code 75 (the cluster declared it down) is started
// again; SIGINT/SIGTERM stop every node (SIGTERM, then SIGKILL after a
// while) and exit 0. Nodes run in their own process groups, so a
// terminal's Ctrl-C reaches only the runner. While it runs, stdin takes commands:
//   kill b     SIGKILL node b
//   start b    start node b again
//   status     which nodes run
//
// Used by chat, inventory and the starter (their `npm start`), and in
// process by examples/demo.ts for several apps at once:
//
//   node --conditions=source --import tsx examples/local-cluster.ts \
//     --app chat --entry examples/chat/src/node.ts --base-port 7101 --base-http 8101 [--nodes 3] [--data-root DIR --fresh]
//
// Only node: built-ins here, so the starter's standalone copy can carry it.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

/** Exit code of a node the cluster declared down: it is started again. */
export const EXIT_DOWNED = 75
export const COMMANDS = 'kill <node>, start <node>, status'
const MAX_NODES = 26

export interface LocalClusterOptions {
  /** The app's name, shown in what the cluster prints. */
  app: string
  /** The app's node entry file. */
  entry: string
  /** Cluster port of node a; node b gets basePort + 1, ... */
  basePort: number
  /** HTTP port of node a; node b gets baseHttp + 1, ... */
  baseHttp: number
  /** Node processes, 1..26 (default 3). */
  nodes?: number
  /** Where the app's nodes keep their data: printed, and emptied by `fresh`. */
  dataRoot?: string
  /** Delete dataRoot before the first start (default false). */
  fresh?: boolean
  /** Node flags of each node process (default: this process's, e.g. --import tsx). */
  nodeArgs?: string[]
  /** Receives every line: the cluster's own and each node's output (default console.log). */
  out?: (line: string) => void
  /** Wait before a downed node is started again, ms (default 1000). */
  restartDelayMs?: number
  /** After this long SIGTERMed nodes get SIGKILL, ms (default 12,000). */
  stopTimeoutMs?: number
}

export class LocalCluster {
  readonly names: string[]
  private readonly children = new Map<string, ChildProcess>()
  private readonly out: (line: string) => void
  private stopping: Promise<void> | null = null
  /** If this process exits without stop() (a crash), its nodes go with it. */
  private readonly killOnExit = (): void => {
    for (const child of this.children.values()) child.kill('SIGKILL')
  }

  constructor(private readonly o: LocalClusterOptions) {
    const count = o.nodes ?? 3
    if (!(Number.isInteger(count) && count >= 1 && count <= MAX_NODES)) throw new RangeError(`nodes must be 1..${MAX_NODES}, got ${count}`)
    for (const [what, port] of [['basePort', o.basePort], ['baseHttp', o.baseHttp]] as const) {
      if (!(Number.isInteger(port) && port >= 1 && port + count - 1 <= 65535)) throw new RangeError(`${what} must leave room for ${count} ports below 65536, got ${port}`)
    }
    this.names = Array.from({ length: count }, (_, i) => String.fromCharCode(97 + i))
    this.out = o.out ?? ((line) => console.log(line))
    process.once('exit', this.killOnExit)
  }

  /** Loopback URL of each node's HTTP listener. */
  urls(): Array<{ name: string; url: string }> {
    return this.names.map((name, i) => ({ name, url: `http://127.0.0.1:${this.o.baseHttp + i}` }))
  }

  /** Starts every node and prints where they listen. */
  startAll(): void {
    if (this.o.fresh && this.o.dataRoot) rmSync(this.o.dataRoot, { recursive: true, force: true })
    for (const name of this.names) this.start(name)
    this.out(`${this.o.app} cluster of ${this.names.length} on loopback:`)
    for (const { name, url } of this.urls()) this.out(`  node ${name}: ${url}`)
    if (this.o.dataRoot) this.out(`data under ${this.o.dataRoot}`)
  }

  start(name: string): string | null {
    if (!this.names.includes(name)) return `no node ${name} (nodes: ${this.names.join(', ')})`
    if (this.stopping) return 'stopping'
    if (this.children.has(name)) return `${name} is already running`
    const i = this.names.indexOf(name)
    const seeds = this.names.map((n, j) => `${n}=ws://127.0.0.1:${this.o.basePort + j}`).join(',')
    const args = ['--name', name, '--port', String(this.o.basePort + i), '--http', String(this.o.baseHttp + i), '--seeds', seeds]
    // Its own process group: a terminal's Ctrl-C reaches only this runner, which stops each node once, in order.
    const child = spawn(process.execPath, [...(this.o.nodeArgs ?? process.execArgv), resolve(this.o.entry), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env, detached: true })
    this.children.set(name, child)
    createInterface({ input: child.stdout! }).on('line', (line) => this.out(line))
    createInterface({ input: child.stderr! }).on('line', (line) => this.out(`${name} (stderr): ${line}`))
    child.once('error', (err) => this.out(`${name} could not start: ${err.message}`))
    child.once('exit', (code, signal) => {
      if (this.children.get(name) === child) this.children.delete(name)
      if (this.stopping) return
      this.out(`${name} exited (${signal ?? `code ${code}`})`)
      // Downed by the cluster (a long pause, a partition): a restart joins as a new incarnation.
      if (code === EXIT_DOWNED) setTimeout(() => void this.start(name), this.o.restartDelayMs ?? 1000)
    })
    return null
  }

  kill(name: string): string | null {
    if (!this.names.includes(name)) return `no node ${name} (nodes: ${this.names.join(', ')})`
    const child = this.children.get(name)
    if (child === undefined) return `${name} is not running`
    child.kill('SIGKILL')
    return null
  }

  status(): string {
    return this.names.map((n) => `${n}: ${this.children.has(n) ? `running (pid ${this.children.get(n)!.pid})` : 'stopped'}`).join('\n')
  }

  /** Runs one stdin command (`kill b`, `start b`, `status`); returns what to print, if anything. */
  command(words: string[]): string | null {
    const [cmd, arg, extra] = words
    if (cmd === 'status' && arg === undefined) return this.status()
    if ((cmd === 'kill' || cmd === 'start') && arg !== undefined && extra === undefined) return cmd === 'kill' ? this.kill(arg) : this.start(arg)
    return `commands: ${COMMANDS}`
  }

  /** SIGTERM to every node, SIGKILL to those still running after stopTimeoutMs; resolves when all exited. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const running = [...this.children.values()]
      const exits = running.map((c) => new Promise<void>((done) => (c.exitCode !== null || c.signalCode !== null ? done() : c.once('exit', () => done()))))
      for (const c of running) c.kill('SIGTERM')
      const timer = setTimeout(() => {
        for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
      }, this.o.stopTimeoutMs ?? 12_000)
      await Promise.all(exits)
      clearTimeout(timer)
      this.children.clear()
      process.off('exit', this.killOnExit)
    })()
    return this.stopping
  }
}

/** Several apps' local clusters driven together (`pnpm demo`); commands name the app. */
export class ClusterSet {
  readonly help: string

  constructor(private readonly clusters: Map<string, LocalCluster>) {
    this.help = `commands: kill <app> <node>, start <app> <node>, status [app]   (apps: ${[...clusters.keys()].join(', ')}; e.g. kill ${[...clusters.keys()][0] ?? 'app'} b)`
  }

  startAll(): void {
    for (const c of this.clusters.values()) c.startAll()
  }

  /** Runs one stdin command (`kill chat b`, `start inventory b`, `status`, `status chat`); returns what to print. */
  command(words: string[]): string {
    const [cmd, app, ...rest] = words
    if (cmd === 'status' && rest.length === 0) {
      if (app !== undefined && !this.clusters.has(app)) return `no app ${app}\n${this.help}`
      const chosen = [...this.clusters].filter(([name]) => app === undefined || name === app)
      return chosen.map(([name, c]) => `${name}:\n${c.status().replace(/^/gm, '  ')}`).join('\n')
    }
    if ((cmd === 'kill' || cmd === 'start') && app !== undefined && rest.length === 1) {
      const cluster = this.clusters.get(app)
      if (cluster === undefined) return `no app ${app}\n${this.help}`
      return cluster.command([cmd, rest[0]!]) ?? `${cmd} ${app} ${rest[0]}: done`
    }
    return this.help
  }

  stop(): Promise<void> {
    return Promise.all([...this.clusters.values()].map((c) => c.stop())).then(() => undefined)
  }
}

const USAGE = `usage: local-cluster --app NAME --entry FILE --base-port N --base-http N [--nodes 3] [--data-root DIR] [--fresh]`

function fromArgv(argv: string[]): LocalClusterOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      app: { type: 'string' },
      entry: { type: 'string' },
      'base-port': { type: 'string' },
      'base-http': { type: 'string' },
      nodes: { type: 'string', default: '3' },
      'data-root': { type: 'string' },
      fresh: { type: 'boolean', default: false },
    },
    strict: true,
  })
  if (!values.app || !values.entry || !values['base-port'] || !values['base-http']) throw new RangeError('--app, --entry, --base-port and --base-http are required')
  const int = (s: string, what: string) => {
    if (!/^\d+$/.test(s)) throw new RangeError(`${what} must be a whole number, got '${s}'`)
    return Number(s)
  }
  return {
    app: values.app,
    entry: values.entry,
    basePort: int(values['base-port'], '--base-port'),
    baseHttp: int(values['base-http'], '--base-http'),
    nodes: int(values.nodes!, '--nodes'),
    ...(values['data-root'] ? { dataRoot: resolve(values['data-root']) } : {}),
    fresh: values.fresh!,
  }
}

async function main(): Promise<void> {
  let cluster: LocalCluster
  try {
    cluster = new LocalCluster(fromArgv(process.argv.slice(2)))
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`)
    process.exit(2)
  }
  const stop = async () => {
    console.log('\nstopping every node…')
    await cluster.stop()
    console.log('all nodes stopped')
    process.exit(0)
  }
  process.on('SIGINT', () => void stop())
  process.on('SIGTERM', () => void stop())
  cluster.startAll()
  console.log(`commands: ${COMMANDS}; Ctrl-C stops all\n`)
  // When stdin ends (no terminal), the cluster keeps running until a signal.
  createInterface({ input: process.stdin }).on('line', (line) => {
    const words = line.trim().split(/\s+/).filter(Boolean)
    if (words.length === 0) return
    const reply = cluster.command(words)
    if (reply !== null) console.log(reply)
  })
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main()
