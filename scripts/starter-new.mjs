// `pnpm starter:new <dir>`: a standalone copy of examples/starter outside
// this workspace. Packs the packages into <dir>/vendor/, writes a
// package.json that depends on those tarballs (file:vendor/...), copies the
// starter's sources and the local-cluster runner, so that
//   cd <dir> && npm install && npm start
// runs a 3-node cluster on loopback with nothing from this repository.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { packAll, publishablePackages, tarballName } from './pack.mjs'

const root = realpathSync(resolve(new URL('..', import.meta.url).pathname))
const starter = join(root, 'examples', 'starter')
const USAGE = 'usage: pnpm starter:new <dir>   (a new or empty directory outside this repository)'

function fail(message) {
  console.error(`${message}\n${USAGE}`)
  process.exit(2)
}

/** The nearest existing ancestor of `path`, with symlinks resolved, plus the rest. */
function realTarget(path) {
  const abs = resolve(path)
  let existing = abs
  while (!existsSync(existing)) existing = dirname(existing)
  return join(realpathSync(existing), relative(existing, abs))
}

const arg = process.argv[2]
if (!arg || process.argv.length > 3 || arg.startsWith('-')) fail(arg ? `unexpected arguments: ${process.argv.slice(2).join(' ')}` : 'no directory given')
// Under `pnpm starter:new`, relative paths are from where the command was typed.
const target = realTarget(resolve(process.env.INIT_CWD ?? process.cwd(), arg))
if (target === root || target.startsWith(`${root}/`)) fail(`${target} is inside this repository; pick a directory outside it (e.g. ../my-app)`)
if (existsSync(target) && readdirSync(target).length > 0) fail(`${target} is not empty`)

const starterManifest = JSON.parse(readFileSync(join(starter, 'package.json'), 'utf8'))
const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const name = basename(target).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'troupe-app'

mkdirSync(target, { recursive: true })
const tarballs = packAll(join(target, 'vendor'))

// Every packed package the starter needs, with the packed ones those need: each
// must come from vendor/, or npm would look for it in the registry.
const byName = new Map(publishablePackages().map((p) => [p.name, p]))
const needed = new Set()
const visit = (dep) => {
  if (needed.has(dep) || !byName.has(dep)) return
  needed.add(dep)
  for (const d of Object.keys(byName.get(dep).manifest.dependencies ?? {})) visit(d)
}
for (const dep of Object.keys(starterManifest.dependencies ?? {})) visit(dep)
const dependencies = {}
for (const dep of [...needed].sort()) {
  const p = byName.get(dep)
  dependencies[dep] = `file:vendor/${tarballName(p.name, p.version)}`
  if (!tarballs[dep]) fail(`${dep} was not packed`)
}
for (const [dep, spec] of Object.entries(starterManifest.dependencies ?? {})) if (!needed.has(dep)) dependencies[dep] = spec

const devVersion = (dep) => starterManifest.devDependencies?.[dep] ?? rootManifest.devDependencies?.[dep]
const manifest = {
  name,
  version: '0.1.0',
  private: true,
  type: 'module',
  engines: rootManifest.engines,
  scripts: {
    start: 'node --import tsx scripts/local-cluster.ts --app starter --entry src/node.ts --base-port 7301 --base-http 8301 --data-root .data',
    node: 'node --import tsx src/node.ts',
    typecheck: 'tsc -p tsconfig.json',
  },
  dependencies,
  devDependencies: Object.fromEntries(['tsx', 'typescript', '@types/node'].map((d) => [d, devVersion(d)])),
}
writeFileSync(join(target, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
cpSync(join(starter, 'src'), join(target, 'src'), { recursive: true })
for (const file of ['README.md', 'tsconfig.json']) cpSync(join(starter, file), join(target, file))
mkdirSync(join(target, 'scripts'))
cpSync(join(root, 'examples', 'local-cluster.ts'), join(target, 'scripts', 'local-cluster.ts'))
writeFileSync(join(target, '.gitignore'), 'node_modules/\n.data/\n')

const fromHere = relative(process.env.INIT_CWD ?? process.cwd(), target)
const shown = fromHere.startsWith('../..') ? target : fromHere || '.'
console.log(`\nA Troupe app in ${target}. Next:\n\n  cd ${shown}\n  npm install\n  npm start\n`)
