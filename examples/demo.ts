// `pnpm demo`: a local 3-node cluster on loopback for each example app, on
// embedded defaults (data under each example's .data/ folder, no external
// services). Prints the URLs; Ctrl-C stops everything cleanly.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const apps = [
  { name: 'chat', script: '../examples/chat/scripts/cluster.ts', args: [] as string[] },
  { name: 'inventory', script: '../examples/inventory/scripts/cluster.ts', args: [] as string[] },
]

const children: ChildProcess[] = []
for (const app of apps) {
  const script = fileURLToPath(new URL(app.script, import.meta.url.replace(/examples\/demo\.ts$/, 'examples/')))
  if (!existsSync(script)) continue
  console.log(`[demo] starting the ${app.name} cluster`)
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, ...app.args], { stdio: ['pipe', 'pipe', 'inherit'] })
  child.stdout!.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) console.log(`[${app.name}] ${line}`)
  })
  child.on('exit', (code, signal) => console.log(`[demo] ${app.name} cluster exited (${signal ?? `code ${code}`})`))
  children.push(child)
}
if (children.length === 0) {
  console.log('[demo] no example apps found; running the in-process actor demo instead')
  await import('./actors-demo.js')
} else {
  console.log('[demo] Ctrl-C stops everything')
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    console.log('\n[demo] stopping...')
    for (const child of children) child.kill('SIGINT')
    setTimeout(() => {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
      process.exit(0)
    }, 10_000).unref()
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  await Promise.all(children.map((c) => new Promise((r) => c.on('exit', r))))
}
