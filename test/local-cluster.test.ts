// examples/local-cluster.ts with stand-in nodes (test/fixtures/local-cluster-node.ts):
// the CLI starts N processes with the node CLI and shared seeds, and its
// stdin commands kill, start and list them; a node exiting with 75 is
// started again; SIGTERM stops every node and exits 0. ClusterSet (what
// `pnpm demo` runs) routes `kill <app> <node>` to the right cluster.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { get } from 'node:http'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ClusterSet, LocalCluster } from '../examples/local-cluster.js'
import { freePorts } from './support/free-ports.js'

const RUNNER = fileURLToPath(new URL('../examples/local-cluster.ts', import.meta.url))
const FAKE_NODE = fileURLToPath(new URL('./fixtures/local-cluster-node.ts', import.meta.url))
const WAIT_MS = 60_000


function httpGet(port: number, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => resolve(body))
    }).on('error', reject)
  })
}

/** Output lines of a process or a LocalCluster, with waiting for a matching one. */
class Lines {
  readonly all: string[] = []
  private waiters: Array<() => void> = []
  push = (line: string): void => {
    this.all.push(line)
    for (const w of this.waiters.splice(0)) w()
  }
  /** Resolves with the `nth` (1-based) line matching `re`, counting from line `from`. */
  async waitFor(re: RegExp, nth = 1, from = 0): Promise<string> {
    const deadline = Date.now() + WAIT_MS
    for (;;) {
      const hits = this.all.slice(from).filter((l) => re.test(l))
      if (hits.length >= nth) return hits[nth - 1]!
      if (Date.now() > deadline) throw new Error(`no ${nth}x ${re} within ${WAIT_MS} ms; output:\n${this.all.join('\n')}`)
      await new Promise<void>((r) => {
        this.waiters.push(r)
        setTimeout(r, 1000).unref()
      })
    }
  }
}

function spawnRunner(args: string[], options: { detached?: boolean } = {}): { child: ChildProcess; lines: Lines; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', RUNNER, ...args], { stdio: ['pipe', 'pipe', 'pipe'], detached: options.detached ?? false })
  const lines = new Lines()
  createInterface({ input: child.stdout! }).on('line', lines.push)
  createInterface({ input: child.stderr! }).on('line', (l) => lines.push(`stderr: ${l}`))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, lines, exited }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

test('the runner starts, kills, restarts and stops nodes from stdin commands, and exits 0 on SIGTERM', async () => {
  const basePort = await freePorts(6)
  const baseHttp = basePort + 3
  const { child, lines, exited } = spawnRunner(['--app', 'fake', '--entry', FAKE_NODE, '--base-port', String(basePort), '--base-http', String(baseHttp)])
  try {
    const seeds = `a=ws://127.0.0.1:${basePort},b=ws://127.0.0.1:${basePort + 1},c=ws://127.0.0.1:${basePort + 2}`
    for (const [i, n] of ['a', 'b', 'c'].entries()) {
      const up = await lines.waitFor(new RegExp(`^\\[${n}\\] up`))
      assert.ok(up.endsWith(`port=${basePort + i} http=${baseHttp + i} seeds=${seeds}`), up)
      assert.is(await httpGet(baseHttp + i), n)
    }
    assert.ok(lines.all.some((l) => l.includes(`node b: http://127.0.0.1:${baseHttp + 1}`)), 'prints the URLs')
    const pidOf = (up: string) => Number(/pid=(\d+)/.exec(up)![1])
    const firstB = pidOf(await lines.waitFor(/^\[b\] up/))

    child.stdin!.write('kill b\n')
    await lines.waitFor(/^b exited \(SIGKILL\)$/)
    let mark = lines.all.length
    child.stdin!.write('status\n')
    await lines.waitFor(/^c: running/, 1, mark)
    assert.ok(lines.all.slice(mark).includes('b: stopped'), lines.all.slice(mark).join('\n'))
    assert.not.ok(alive(firstB), 'b was killed')
    await httpGet(baseHttp + 1).then(
      () => assert.unreachable('b still answers'),
      () => {},
    )

    child.stdin!.write('start b\n')
    const secondB = pidOf(await lines.waitFor(/^\[b\] up/, 2))
    assert.is.not(secondB, firstB)
    assert.is(await httpGet(baseHttp + 1), 'b')

    mark = lines.all.length
    child.stdin!.write('kill z\nstart a\nfrobnicate\n')
    await lines.waitFor(/^commands: kill <node>, start <node>, status$/, 1, mark)
    assert.ok(lines.all.slice(mark).includes('no node z (nodes: a, b, c)'))
    assert.ok(lines.all.slice(mark).includes('a is already running'))

    // A node the cluster downed (exit 75) is started again by the runner.
    const firstC = pidOf(await lines.waitFor(/^\[c\] up/))
    await httpGet(baseHttp + 2, '/down')
    await lines.waitFor(/^c exited \(code 75\)$/)
    const secondC = pidOf(await lines.waitFor(/^\[c\] up/, 2))
    assert.is.not(secondC, firstC)

    const pids = [pidOf(await lines.waitFor(/^\[a\] up/)), secondB, secondC]
    child.kill('SIGTERM')
    assert.is(await exited, 0, lines.all.join('\n'))
    for (const n of ['a', 'b', 'c']) assert.ok(lines.all.includes(`[${n}] SIGTERM`), `${n} got SIGTERM`)
    assert.ok(lines.all.includes('all nodes stopped'))
    for (const pid of pids) assert.not.ok(alive(pid), `pid ${pid} exited`)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
  }
})

test("Ctrl-C in a terminal (SIGINT to the runner's process group) stops each node once, by SIGTERM from the runner", async () => {
  const basePort = await freePorts(4)
  // Detached: the runner leads its own group, as a shell's foreground job does.
  const { child, lines, exited } = spawnRunner(['--app', 'fake', '--entry', FAKE_NODE, '--base-port', String(basePort), '--base-http', String(basePort + 2), '--nodes', '2'], { detached: true })
  try {
    for (const n of ['a', 'b']) await lines.waitFor(new RegExp(`^\\[${n}\\] up`))
    process.kill(-child.pid!, 'SIGINT')
    assert.is(await exited, 0, lines.all.join('\n'))
    for (const n of ['a', 'b']) {
      assert.is(lines.all.filter((l) => l === `[${n}] SIGTERM`).length, 1, lines.all.join('\n'))
      assert.not.ok(lines.all.includes(`[${n}] SIGINT`), `${n} got the terminal's SIGINT`)
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
  }
})

test('the runner rejects bad arguments with its usage and exit code 2', async () => {
  for (const args of [[], ['--app', 'x', '--entry', FAKE_NODE, '--base-port', 'abc', '--base-http', '9000'], ['--app', 'x', '--entry', FAKE_NODE, '--base-port', '9000', '--base-http', '9100', '--nodes', '27'], ['--bogus']]) {
    const { lines, exited } = spawnRunner(args)
    assert.is(await exited, 2, `${args.join(' ')}: ${lines.all.join('\n')}`)
    assert.ok(lines.all.some((l) => l.includes('usage: local-cluster')), lines.all.join('\n'))
  }
})

test('ClusterSet routes `kill <app> <node>`, `start <app> <node>` and `status [app]` to the right cluster', async () => {
  const lines = new Lines()
  const base = await freePorts(8)
  const make = (app: string, basePort: number) =>
    new LocalCluster({ app, entry: FAKE_NODE, basePort, baseHttp: basePort + 2, nodes: 2, out: (l) => lines.push(`[${app}] ${l}`), stopTimeoutMs: 30_000 })
  const one = make('one', base)
  const two = make('two', base + 4)
  const set = new ClusterSet(new Map([['one', one], ['two', two]]))
  set.startAll()
  try {
    for (const app of ['one', 'two']) for (const n of ['a', 'b']) await lines.waitFor(new RegExp(`^\\[${app}\\] \\[${n}\\] up`))
    assert.is(set.command(['kill', 'two', 'b']), 'kill two b: done')
    await lines.waitFor(/^\[two\] b exited \(SIGKILL\)$/)
    assert.match(set.command(['status']), /one:\n {2}a: running.*\n {2}b: running.*\ntwo:\n {2}a: running.*\n {2}b: stopped/)
    assert.match(set.command(['status', 'one']), /^one:\n {2}a: running.*\n {2}b: running/)
    assert.is(set.command(['kill', 'two', 'b']), 'b is not running')
    assert.match(set.command(['kill', 'three', 'b']), /^no app three\ncommands: kill <app> <node>/)
    assert.match(set.command(['kill', 'b']), /^commands: kill <app> <node>, start <app> <node>, status \[app\]/)
    assert.is(set.command(['start', 'two', 'b']), 'start two b: done')
    await lines.waitFor(/^\[two\] \[b\] up/, 2)
    assert.match(set.command(['status', 'two']), /b: running/)
  } finally {
    await set.stop()
  }
  for (const app of ['one', 'two']) for (const n of ['a', 'b']) assert.ok(lines.all.includes(`[${app}] [${n}] SIGTERM`), `${app} ${n} stopped by SIGTERM`)
})

test.run()
