// Packs every publishable workspace package (packages/*, not private) into
// one folder as npm tarballs, dependencies first. Each package builds on
// `prepack`; pnpm turns `workspace:*` into the real version and applies
// `publishConfig` (the `exports` without the in-repo `source` condition).
//
//   node scripts/pack.mjs <dest-dir>      prints one JSON line: { "<name>": "<tarball path>", ... }
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pnpmCommand } from './pnpm-command.mjs'

const root = resolve(new URL('..', import.meta.url).pathname)

/** Publishable packages in dependency order (a package after the workspace packages it depends on). */
export function publishablePackages() {
  const dir = join(root, 'packages')
  const all = new Map()
  for (const name of readdirSync(dir).sort()) {
    const manifestPath = join(dir, name, 'package.json')
    if (!existsSync(manifestPath)) continue
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))
    if (manifest.private) continue
    all.set(manifest.name, { name: manifest.name, version: manifest.version, dir: join(dir, name), manifest })
  }
  const ordered = []
  const visit = (pkg, chain) => {
    if (ordered.includes(pkg)) return
    if (chain.includes(pkg.name)) throw new Error(`dependency cycle: ${[...chain, pkg.name].join(' -> ')}`)
    for (const dep of Object.keys(pkg.manifest.dependencies ?? {})) if (all.has(dep)) visit(all.get(dep), [...chain, pkg.name])
    ordered.push(pkg)
  }
  for (const pkg of all.values()) visit(pkg, [])
  return ordered
}

/** The tarball name npm and pnpm give `@scope/name@version`. */
export function tarballName(name, version) {
  return `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`
}

/** Packs every publishable package into `dest`; returns { name: tarball path }. */
export function packAll(dest, { log = (line) => console.error(line) } = {}) {
  mkdirSync(dest, { recursive: true })
  const pnpm = pnpmCommand()
  const tarballs = {}
  for (const pkg of publishablePackages()) {
    log(`packing ${pkg.name}`)
    const run = spawnSync(pnpm.command, [...pnpm.args, 'pack', '--pack-destination', dest], { cwd: pkg.dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    if (run.status !== 0) throw new Error(`pnpm pack failed in ${pkg.dir} (exit ${run.status}):\n${run.stdout}\n${run.stderr}`)
    const tarball = join(dest, tarballName(pkg.name, pkg.version))
    if (!existsSync(tarball)) throw new Error(`pnpm pack in ${pkg.dir} made no ${tarball}:\n${run.stdout}`)
    tarballs[pkg.name] = tarball
  }
  return tarballs
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dest = process.argv[2]
  if (!dest) {
    console.error('usage: node scripts/pack.mjs <dest-dir>')
    process.exit(2)
  }
  console.log(JSON.stringify(packAll(resolve(dest))))
}
