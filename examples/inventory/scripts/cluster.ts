// Starts a local inventory cluster on loopback: N node processes (default 3:
// a, b, c on cluster ports 7201.. and HTTP ports 8201..), prints where to
// open the dashboard, and stops them all on Ctrl-C. While it runs, type
//   kill b     SIGKILL node b (its sagas are resumed elsewhere; the restock job moves if b led it)
//   start b    start node b again (it recovers its Raft groups from disk)
//   status     which nodes run
//
//   node --conditions=source --import tsx examples/inventory/scripts/cluster.ts [--nodes 3] [--fresh]
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const NODE_ENTRY = fileURLToPath(new URL('../src/node.ts', import.meta.url))
const DATA_ROOT = fileURLToPath(new URL('../.data/', import.meta.url))
const EXIT_DOWNED = 75
const STOP_TIMEOUT_MS = 12_000

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    'base-port': { type: 'string', default: '7201' },
    'base-http': { type: 'string', default: '8201' },
    fresh: { type: 'boolean', default: false },
  },
})
const count = Number(values.nodes)
if (!(Number.isInteger(count) && count >= 1 && count <= 26)) throw new Error('--nodes must be 1..26')
const basePort = Number(values['base-port'])
const baseHttp = Number(values['base-http'])
const names = Array.from({ length: count }, (_, i) => String.fromCharCode(97 + i))
const seeds = names.map((n, i) => `${n}=ws://127.0.0.1:${basePort + i}`).join(',')
if (values.fresh) rmSync(DATA_ROOT, { recursive: true, force: true })

const children = new Map<string, ChildProcess>()
let stopping = false

function start(name: string): void {
  if (children.has(name)) return console.log(`${name} is already running`)
  const i = names.indexOf(name)
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', NODE_ENTRY, '--name', name, '--port', String(basePort + i), '--http', String(baseHttp + i), '--seeds', seeds],
    { stdio: ['ignore', 'inherit', 'inherit'], env: process.env },
  )
  children.set(name, child)
  child.once('exit', (code, signal) => {
    children.delete(name)
    if (stopping) return
    console.log(`${name} exited (${signal ?? `code ${code}`})`)
    // Downed by the cluster (a long pause, a partition): a restart joins as a new incarnation.
    if (code === EXIT_DOWNED) setTimeout(() => !stopping && start(name), 1000)
  })
}

function kill(name: string): void {
  const child = children.get(name)
  if (child === undefined) return console.log(`${name} is not running`)
  child.kill('SIGKILL')
}

async function stopAll(): Promise<void> {
  if (stopping) return
  stopping = true
  console.log('\nstopping every node…')
  const exits = [...children.values()].map((c) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve()))))
  for (const c of children.values()) c.kill('SIGTERM')
  const timer = setTimeout(() => {
    for (const c of children.values()) c.kill('SIGKILL')
  }, STOP_TIMEOUT_MS)
  await Promise.all(exits)
  clearTimeout(timer)
  console.log('all nodes stopped')
  process.exit(0)
}

process.on('SIGINT', () => void stopAll())
process.on('SIGTERM', () => void stopAll())

for (const name of names) start(name)
console.log(`\ninventory cluster of ${count} on loopback; dashboards and APIs:`)
names.forEach((n, i) => console.log(`  node ${n}: http://127.0.0.1:${baseHttp + i}`))
console.log(`data under ${DATA_ROOT}; commands: kill <node>, start <node>, status; Ctrl-C stops all\n`)

// Commands on stdin; when stdin ends (no terminal), the cluster keeps running until a signal.
createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, arg] = line.trim().split(/\s+/)
  if (cmd === 'kill' && arg && names.includes(arg)) kill(arg)
  else if (cmd === 'start' && arg && names.includes(arg)) start(arg)
  else if (cmd === 'status') console.log(names.map((n) => `${n}: ${children.has(n) ? `running (pid ${children.get(n)!.pid})` : 'stopped'}`).join('\n'))
  else if (cmd) console.log('commands: kill <node>, start <node>, status')
})
