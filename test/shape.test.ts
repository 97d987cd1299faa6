// The shape rules of the repository, checked so they stay true: named
// re-exports only, no import cycle that is not type-only inside a package,
// no test reaching into another package's src/, pure cores that load no
// network stack, and source files of one concept (under ~400 lines, with
// the exceptions named below and why).
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Files allowed past the line budget, each with the reason it stays whole. */
const LONG_FILES: Record<string, string> = {
  // The flush pipeline (batching, fsync, checkpoints, segment collection) shares
  // state with the per-group views it checkpoints; a cut there risks the fsync batching.
  'packages/raft/src/storage/write-ahead-log.ts': 'one flush pipeline',
}
const MAX_LINES = 400

/** Pure cores: no sockets, codec, files or the runtime's main entry. */
const PURE_CORES = ['packages/raft/src/internal', 'packages/lease/src/core', 'packages/saga/src/internal/saga-machine.ts']
const IMPURE = /from '(ws|cbor-x|node:fs|node:net|node:http|@troupe\/runtime)'/

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path, out)
    else if (path.endsWith('.ts') && !path.endsWith('.d.ts')) out.push(path)
  }
  return out
}

const packages = readdirSync(join(root, 'packages')).sort()
const sources = packages.flatMap((p) => walk(join(root, 'packages', p, 'src')))
const tests = [...packages.map((p) => join(root, 'packages', p, 'test')), ...['chat', 'inventory'].map((e) => join(root, 'examples', e))].flatMap((d) => {
  try {
    return walk(d)
  } catch {
    return []
  }
})
const rel = (path: string) => relative(root, path)

test('no export * in any package source', () => {
  const offenders = sources.filter((f) => /^export \* from/m.test(readFileSync(f, 'utf8'))).map(rel)
  assert.equal(offenders, [])
})

test('source files stay under the line budget (or are named with a reason)', () => {
  const long = sources
    .map((f) => ({ file: rel(f), lines: readFileSync(f, 'utf8').split('\n').length }))
    .filter((x) => x.lines > MAX_LINES && !(x.file in LONG_FILES))
    .map((x) => `${x.file}: ${x.lines}`)
  assert.equal(long, [])
})

test("no test or example imports another package's src/", () => {
  const offenders = tests.filter((f) => /from '(\.\.\/)+(packages\/)?[a-z-]+\/src\//.test(readFileSync(f, 'utf8').replace(/from '\.\.\/src\//g, ''))).map(rel)
  assert.equal(offenders, [])
})

test('pure cores load no sockets, codec, files or the runtime main entry', () => {
  const cores = sources.filter((f) => PURE_CORES.some((c) => rel(f).startsWith(c)))
  assert.ok(cores.length > 10, 'the pure cores were found')
  const offenders = cores.filter((f) => IMPURE.test(readFileSync(f, 'utf8'))).map(rel)
  assert.equal(offenders, [])
})

/** Imports that exist at run time: not `import type`, not `{ type A, type B }`. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const found: string[] = []
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?([\s\S]*?)from\s+'(\.[^']+)'/gm)) {
    if (m[1]) continue
    const braces = /^\{([^}]*)\}\s*$/.exec(m[2]!.trim())
    if (braces && braces[1]!.split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '))) continue
    found.push(normalize(join(dirname(file), m[3]!.replace(/\.js$/, '.ts'))))
  }
  return found
}

test('no import cycle inside a package that is not type-only', () => {
  const graph = new Map(sources.map((f) => [f, runtimeImports(f).filter((t) => t !== f)]))
  const cycles: string[] = []
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (f: string): void => {
    state.set(f, 'open')
    stack.push(f)
    for (const t of graph.get(f) ?? []) {
      if (!graph.has(t)) continue
      if (state.get(t) === 'open') cycles.push([...stack.slice(stack.indexOf(t)), t].map(rel).join(' -> '))
      else if (!state.has(t)) visit(t)
    }
    stack.pop()
    state.set(f, 'done')
  }
  for (const f of graph.keys()) if (!state.has(f)) visit(f)
  assert.equal(cycles, [])
})

test.run()
