// Builds one workspace package to dist/ (JS, .d.ts, maps): its `prepack`, so
// `pnpm pack` always ships a fresh build. Workspace packages it depends on
// are built first when their dist/ is missing or older than their sources
// (the .d.ts it compiles against come from their dist/).
// Usage (from a package directory): node ../../scripts/build-package.mjs
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'

const root = resolve(new URL('..', import.meta.url).pathname)
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const packagesDir = join(root, 'packages')

/** Workspace package directories by package name. */
function workspacePackages() {
  const byName = new Map()
  for (const dir of readdirSync(packagesDir)) {
    const manifest = join(packagesDir, dir, 'package.json')
    if (existsSync(manifest)) byName.set(JSON.parse(readFileSync(manifest, 'utf8')).name, join(packagesDir, dir))
  }
  return byName
}

function newestMtimeMs(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs)
  }
  return newest
}

function isFresh(dir) {
  const marker = join(dir, 'dist', 'index.d.ts')
  if (!existsSync(marker)) return false
  return statSync(marker).mtimeMs >= Math.max(newestMtimeMs(join(dir, 'src')), statSync(join(dir, 'tsconfig.build.json')).mtimeMs)
}

function build(dir) {
  rmSync(join(dir, 'dist'), { recursive: true, force: true })
  const run = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: dir, stdio: 'inherit' })
  if (run.status !== 0) {
    console.error(`build failed in ${dir}`)
    process.exit(run.status ?? 1)
  }
}

const byName = workspacePackages()
const done = new Set()
/** Builds the workspace dependencies of `dir` that are stale, deepest first. */
function buildDependencies(dir, chain) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  for (const [name, spec] of Object.entries(manifest.dependencies ?? {})) {
    if (!String(spec).startsWith('workspace:') || done.has(name)) continue
    const depDir = byName.get(name)
    if (depDir === undefined) throw new Error(`${manifest.name} depends on ${name}, which is not in packages/`)
    if (chain.includes(name)) throw new Error(`dependency cycle: ${[...chain, name].join(' -> ')}`)
    buildDependencies(depDir, [...chain, name])
    if (!isFresh(depDir)) {
      console.log(`building ${name} (a dependency, its dist/ is missing or stale)`)
      build(depDir)
    }
    done.add(name)
  }
}

const here = process.cwd()
if (!existsSync(join(here, 'tsconfig.build.json'))) {
  console.error(`no tsconfig.build.json in ${here}; run this from a package directory`)
  process.exit(2)
}
buildDependencies(here, [JSON.parse(readFileSync(join(here, 'package.json'), 'utf8')).name])
build(here)
