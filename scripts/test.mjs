// Runs the typecheck, then every package's and example's uvu tests (TypeScript
// through tsx, no build step), and prints one final "N passed, N failed" line.
// Usage: pnpm test [package-or-example-name ...]
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const require = createRequire(import.meta.url)
const uvuBin = join(root, 'node_modules', 'uvu', 'bin.js')
const only = process.argv.slice(2)

const suites = []
for (const group of ['packages', 'examples']) {
  const dir = join(root, group)
  if (!existsSync(dir)) continue
  for (const name of readdirSync(dir).sort()) {
    const testDir = join(dir, name, 'test')
    if (!existsSync(testDir)) continue
    if (only.length && !only.includes(name)) continue
    suites.push({ name: `${group}/${name}`, cwd: join(dir, name) })
  }
}
if (existsSync(join(root, 'test')) && only.length === 0) suites.push({ name: 'test', cwd: root, dir: 'test' })

let passed = 0
let failed = 0
const failedSuites = []

if (only.length === 0) {
  console.log('\n== typecheck')
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' })
  if (tsc.status === 0) passed++
  else { failed++; failedSuites.push('typecheck') }
}

const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '')
for (const suite of suites) {
  console.log(`\n== ${suite.name}`)
  const run = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', uvuBin, suite.dir ?? 'test', '\\.test\\.ts$'],
    { cwd: suite.cwd, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, maxBuffer: 256 * 1024 * 1024 },
  )
  process.stdout.write(run.stdout)
  process.stderr.write(run.stderr)
  const out = strip(run.stdout)
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0)
  const ok = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0)
  const skipped = Number(/Skipped:\s+(\d+)/.exec(out)?.[1] ?? 0)
  passed += ok
  const bad = total - ok - skipped
  if (bad > 0 || run.status !== 0 || total === 0) {
    failed += Math.max(bad, 1)
    failedSuites.push(suite.name)
  }
}

console.log(`\n${failedSuites.length ? `failing: ${failedSuites.join(', ')}\n` : ''}${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
