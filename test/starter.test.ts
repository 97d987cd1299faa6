// The starter as a new user gets it: `pnpm starter:new <dir>` makes a
// standalone copy in a temp dir outside the repository (packed tarballs in
// vendor/), `npm install` installs it with plain npm, `npm run typecheck`
// passes, and its start command runs a 3-node cluster on loopback that
// answers on every node: an entity ask, a Raft put and read, a saga that
// completes and one that is compensated. SIGTERM stops it with exit code 0.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { cleanEnv, LIMIT_MS, ROOT, run, tempProjectDir } from './pack-project.js'
import { freePorts } from './support/free-ports.js'

const WAIT_MS = 3 * 60_000

interface Ctx {
  dir: string
  app: string
}
const starter = suite<Ctx>('starter')

starter.before((ctx) => {
  ctx.dir = tempProjectDir('troupe-starter-')
  ctx.app = join(ctx.dir, 'my-app')
  run(process.execPath, [join(ROOT, 'scripts', 'starter-new.mjs'), ctx.app], { cwd: ROOT, timeout: LIMIT_MS.pack, env: process.env })
  run('npm', ['install', '--no-audit', '--no-fund'], { cwd: ctx.app, timeout: LIMIT_MS.install })
})

starter.after((ctx) => {
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true })
})

starter('the copy stands alone: tarball dependencies, its own sources and runner, nothing from the workspace', (ctx) => {
  const manifest = JSON.parse(readFileSync(join(ctx.app, 'package.json'), 'utf8'))
  const troupe = Object.entries(manifest.dependencies as Record<string, string>).filter(([name]) => name.startsWith('@troupe/'))
  assert.ok(troupe.some(([name]) => name === '@troupe/node'), JSON.stringify(manifest.dependencies))
  for (const [name, spec] of troupe) {
    assert.match(spec, /^file:vendor\/troupe-[a-z]+-[\d.]+\.tgz$/, `${name}: ${spec}`)
    assert.ok(existsSync(join(ctx.app, spec.slice('file:'.length))), `${spec} exists`)
  }
  assert.not.match(readFileSync(join(ctx.app, 'package.json'), 'utf8'), /workspace:|\.\.\//)
  assert.ok(existsSync(join(ctx.app, 'scripts', 'local-cluster.ts')) && existsSync(join(ctx.app, 'src', 'node.ts')) && existsSync(join(ctx.app, 'README.md')))
  for (const file of readdirSync(join(ctx.app, 'src'), { recursive: true }) as string[]) {
    if (file.endsWith('.ts')) assert.not.match(readFileSync(join(ctx.app, 'src', file), 'utf8'), /from '\.\.\/\.\.|packages\//, `${file} imports only packages`)
  }
})

starter('the copy typechecks with its own tsconfig', (ctx) => {
  run('npm', ['run', 'typecheck'], { cwd: ctx.app, timeout: LIMIT_MS.tsc })
})

starter('refuses a directory inside the repository or one that is not empty, with exit code 2', (ctx) => {
  for (const dir of [join(ROOT, 'examples', 'my-app'), ctx.app]) {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'starter-new.mjs'), dir], { cwd: ROOT, encoding: 'utf8' })
    assert.is(r.status, 2, `${r.stdout}${r.stderr}`)
    assert.match(r.stderr, /usage: pnpm starter:new <dir>/)
  }
  assert.not.ok(existsSync(join(ROOT, 'examples', 'my-app')))
})

starter('npm start runs 3 nodes that answer an entity ask, a Raft put and read and sagas from every node; SIGTERM exits 0', async (ctx) => {
  const manifest = JSON.parse(readFileSync(join(ctx.app, 'package.json'), 'utf8'))
  const [command, ...args] = (manifest.scripts.start as string).split(' ')
  assert.is(command, 'node')
  const basePort = await freePorts(6)
  const baseHttp = basePort + 3
  // What `npm start -- --base-port P --base-http H` runs, without npm in between (npm does not pass SIGTERM on).
  const child = spawn(process.execPath, [...args, '--base-port', String(basePort), '--base-http', String(baseHttp)], { cwd: ctx.app, env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] })
  const lines: string[] = []
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l))
  createInterface({ input: child.stderr! }).on('line', (l) => lines.push(`stderr: ${l}`))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  try {
    const deadline = Date.now() + WAIT_MS
    while (!['a', 'b', 'c'].every((n) => lines.some((l) => l.startsWith(`[${n}] ready`)))) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the cluster did not come up:\n${lines.join('\n')}`)
      await new Promise((r) => setTimeout(r, 250))
    }
    const url = (i: number, path: string) => `http://127.0.0.1:${baseHttp + i}${path}`
    const json = async (res: Response) => {
      const text = await res.text()
      assert.ok(res.ok, `${res.status} ${text}\n${lines.slice(-30).join('\n')}`)
      return JSON.parse(text)
    }

    // The same entity from every node: one activation counts every visit.
    for (const i of [0, 1, 2]) assert.equal(await json(await fetch(url(i, '/counter?id=home'), { method: 'POST' })), { id: 'home', count: i + 1 })
    // A Raft write on a, read on c.
    assert.equal(await json(await fetch(url(0, '/kv?key=greeting'), { method: 'PUT', body: 'hello' })), { key: 'greeting', ok: true })
    assert.equal(await json(await fetch(url(2, '/kv?key=greeting'))), { key: 'greeting', value: 'hello' })
    // A saga that completes (its claim is in the kv group), one compensated because the name is taken,
    // one compensated after its last step failed (its claim undone).
    const ada = await json(await fetch(url(1, '/signup?name=ada'), { method: 'POST' }))
    assert.is(ada.status, 'completed')
    assert.equal(await json(await fetch(url(0, '/kv?key=user/ada'))), { key: 'user/ada', value: ada.id })
    assert.is((await json(await fetch(url(2, '/signup?name=ada'), { method: 'POST' }))).status, 'compensated')
    assert.equal(await json(await fetch(url(2, '/kv?key=user/ada'))), { key: 'user/ada', value: ada.id })
    assert.is((await json(await fetch(url(0, '/signup?name=bob&fail=1'), { method: 'POST' }))).status, 'compensated')
    assert.equal(await json(await fetch(url(1, '/kv?key=user/bob'))), { key: 'user/bob', value: null })
    assert.equal(await json(await fetch(url(0, '/counter?id=visits-ada'), { method: 'POST' })), { id: 'visits-ada', count: 2 })
    // Bad input is a 400, not a crash.
    const bad = await fetch(url(1, '/kv'))
    assert.is(bad.status, 400)
    assert.is(((await bad.json()) as { error: string }).error, 'BAD_REQUEST')

    child.kill('SIGTERM')
    assert.is(await exited, 0, lines.join('\n'))
    assert.ok(lines.includes('all nodes stopped'), lines.slice(-20).join('\n'))
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
  }
})

starter.run()
