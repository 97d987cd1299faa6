// A TypeScript script run as its own Node process (`node --conditions=source
// --import tsx <script>`), seen from its parent: each JSON line it prints on
// stdout becomes an event the parent can wait for; commands go to its stdin,
// one JSON object per line, with an `id` the reply repeats. Shared by the
// multi-process tests (test/fixtures) and benchmarks (bench). Real time here:
// these are real processes.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** The repository root: children run from here, so entries may be given relative to it. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface ChildEvent {
  event: string
  [key: string]: unknown
}

export interface ScriptProcessOptions {
  /** Arguments after the script path. */
  args?: string[]
  /** Node flags before `--conditions=source`. */
  nodeArgs?: string[]
  /** Added to this process's environment. */
  env?: Record<string, string>
  /** Default timeout of `call`; 10 s if not given. */
  callTimeoutMs?: number
  /** Copy the child's stderr to ours as it arrives, prefixed with its name. */
  echoStderr?: boolean
}

/** Most lines of output kept per child, for waiting and failure reports. */
const MAX_KEPT_LINES = 5000
/** Longest event shown per line in failure reports. */
const MAX_TAIL_LINE_CHARS = 300

export class ScriptProcess<E extends ChildEvent = ChildEvent> {
  readonly events: E[] = []
  readonly stderr: string[] = []
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  private readonly child: ChildProcess
  private readonly callTimeoutMs: number
  private waiters: Array<() => void> = []
  private nextId = 1
  private done = false

  constructor(
    readonly name: string,
    script: string,
    options: ScriptProcessOptions = {},
  ) {
    this.callTimeoutMs = options.callTimeoutMs ?? 10_000
    const argv = [...(options.nodeArgs ?? []), '--conditions=source', '--import', 'tsx', script, ...(options.args ?? [])]
    this.child = spawn(process.execPath, argv, {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.done = true
        this.wake()
        resolve({ code, signal })
      }),
    )
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.onLine(line))
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      if (this.stderr.length < MAX_KEPT_LINES) this.stderr.push(line)
      if (options.echoStderr) console.error(`[${this.name}] ${line}`)
    })
    this.child.stdin!.on('error', () => {}) // writing to a killed child
  }

  /** The child's process id; -1 if it could not be spawned. */
  get pid(): number {
    return this.child.pid ?? -1
  }

  get alive(): boolean {
    return !this.done
  }

  send(command: Record<string, unknown>): number {
    const id = this.nextId++
    this.child.stdin!.write(`${JSON.stringify({ id, ...command })}\n`)
    return id
  }

  /** Sends a command and waits for the line that answers it. */
  async call(command: Record<string, unknown>, timeoutMs = this.callTimeoutMs): Promise<E> {
    const id = this.send(command)
    return this.waitFor((e) => this.isReplyTo(e, id), `reply to ${JSON.stringify(command)}`, timeoutMs)
  }

  /** The first event, printed already or still to come, that matches; rejects with the last output on exit or timeout. */
  async waitFor(pred: (e: E) => boolean, what: string, timeoutMs: number): Promise<E> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const hit = this.events.find(pred)
      if (hit) return hit
      if (this.done) throw new Error(`${this.name} exited while waiting for ${what}\n${this.tail()}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`${this.name}: no ${what} within ${timeoutMs} ms\n${this.tail()}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.alive) this.child.kill(signal)
  }

  /** Closes stdin (the child exits on its own), then SIGKILLs it if it has not after `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    if (!this.alive) return
    this.child.stdin!.end()
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs)
    await this.exited
    clearTimeout(timer)
  }

  /** The last lines of output, for failure messages. */
  tail(lines = 15): string {
    const events = this.events.slice(-lines).map((e) => `  ${this.name} ${JSON.stringify(e).slice(0, MAX_TAIL_LINE_CHARS)}`)
    const err = this.stderr.slice(-8).map((l) => `  ${this.name} stderr: ${l}`)
    return [...events, ...err].join('\n')
  }

  /** Whether `e` answers the command sent with `id`; children that print other events carrying an `id` narrow this. */
  protected isReplyTo(e: E, id: number): boolean {
    return e.id === id
  }

  private onLine(line: string): void {
    let event: E
    try {
      event = JSON.parse(line) as E
    } catch {
      event = { node: this.name, event: 'stdout', t: Date.now(), line } as unknown as E
    }
    // Drop the oldest half rather than the newest: a waiter must still see lines printed from now on.
    if (this.events.length >= MAX_KEPT_LINES) this.events.splice(0, MAX_KEPT_LINES / 2)
    this.events.push(event)
    this.wake()
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }
}

/** Kills every child still running (SIGKILL) and waits until all have exited. */
export async function killAll(children: ReadonlyArray<Pick<ScriptProcess, 'kill' | 'exited'>>): Promise<void> {
  for (const c of children) c.kill('SIGKILL')
  await Promise.all(children.map((c) => c.exited))
}
