// The packages as a user installs them: `pnpm pack` tarballs, installed with
// plain npm into a fresh project outside the repository, then a TypeScript
// file importing every entry point (test/pack-consumer/main.ts) is
// typechecked with moduleResolution node16, nodenext and bundler (and
// skipLibCheck off, so our .d.ts files are checked too) and its JS output
// runs with plain node. Packs once and installs once (a minute or two).
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, join, relative } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { LIMIT_MS, packWorkspace, ROOT, run, TSC, tempProjectDir } from './pack-project.js'

/** Every package meant for users (pack.mjs packs each one that is not private). */
const PACKAGES = ['@troupe/runtime', '@troupe/raft', '@troupe/lease', '@troupe/saga', '@troupe/testkit', '@troupe/node']
const RESOLUTIONS = [
  { moduleResolution: 'node16', module: 'node16' },
  { moduleResolution: 'nodenext', module: 'nodenext' },
  { moduleResolution: 'bundler', module: 'esnext' },
] as const

interface Ctx {
  dir: string
  tarballs: Record<string, string>
}
const pack = suite<Ctx>('pack')

pack.before((ctx) => {
  ctx.dir = tempProjectDir('troupe-pack-')
  ctx.tarballs = packWorkspace(join(ctx.dir, 'vendor'))
  const dependencies = Object.fromEntries(Object.entries(ctx.tarballs).map(([name, path]) => [name, `file:${relative(ctx.dir, path)}`]))
  const project = { name: 'troupe-consumer', private: true, type: 'module', dependencies, devDependencies: { '@types/node': '^20.19.0' } }
  writeFileSync(join(ctx.dir, 'package.json'), `${JSON.stringify(project, null, 2)}\n`)
  mkdirSync(join(ctx.dir, 'src'))
  copyFileSync(join(ROOT, 'test', 'pack-consumer', 'main.ts'), join(ctx.dir, 'src', 'main.ts'))
  run('npm', ['install', '--no-audit', '--no-fund'], { cwd: ctx.dir, timeout: LIMIT_MS.install })
})

pack.after((ctx) => {
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true })
})

const manifest = (ctx: Ctx, name: string) => JSON.parse(readFileSync(join(ctx.dir, 'node_modules', name, 'package.json'), 'utf8'))

pack('every publishable package is packed and installed', (ctx) => {
  assert.equal(Object.keys(ctx.tarballs).sort(), [...PACKAGES].sort())
  for (const name of Object.keys(ctx.tarballs)) {
    assert.ok(existsSync(join(ctx.dir, 'node_modules', name, 'package.json')), `${name} installed`)
    // One copy of each: the tarballs satisfy each other's dependencies.
    for (const other of Object.keys(ctx.tarballs)) assert.not.ok(existsSync(join(ctx.dir, 'node_modules', name, 'node_modules', other)), `a nested ${other} under ${name}`)
  }
})

pack('each tarball has dist JS and .d.ts, a top-level types field, files, and exports into dist without the source condition', (ctx) => {
  for (const name of Object.keys(ctx.tarballs)) {
    const m = manifest(ctx, name)
    const at = (p: string) => join(ctx.dir, 'node_modules', name, p)
    assert.type(m.types, 'string', `${name} types`)
    assert.ok(existsSync(at(m.types)), `${name}: ${m.types} exists`)
    assert.ok(Array.isArray(m.files) && m.files.includes('dist'), `${name} files`)
    assert.ok(m.exports && m.exports['.'], `${name} exports '.'`)
    for (const [subpath, target] of Object.entries(m.exports as Record<string, Record<string, string>>)) {
      assert.equal(Object.keys(target), ['types', 'default'], `${name} ${subpath}: only types and default (no source) in a tarball`)
      assert.match(target.types!, /^\.\/dist\/.*\.d\.ts$/, `${name} ${subpath} types`)
      assert.match(target.default!, /^\.\/dist\/.*\.js$/, `${name} ${subpath} default`)
      assert.ok(existsSync(at(target.types!)) && existsSync(at(target.default!)), `${name} ${subpath}: both files exist`)
    }
    assert.not.ok(m.scripts?.prepack, `${name}: no prepack in the tarball (it needs the repo)`)
  }
})

pack('workspace:* dependencies became real versions', (ctx) => {
  for (const name of Object.keys(ctx.tarballs)) {
    const m = manifest(ctx, name)
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      for (const [dep, spec] of Object.entries((m[field] ?? {}) as Record<string, string>)) {
        assert.not.match(spec, /workspace:/, `${name} ${field} ${dep}`)
        if (dep in ctx.tarballs) assert.is(spec, manifest(ctx, dep).version, `${name} depends on the packed ${dep}`)
      }
    }
  }
})

for (const r of RESOLUTIONS) {
  pack(`typechecks under moduleResolution ${r.moduleResolution} and runs with plain node`, (ctx) => {
    const outDir = `out-${r.moduleResolution}`
    const tsconfig = {
      compilerOptions: { target: 'ES2022', lib: ['ES2023'], module: r.module, moduleResolution: r.moduleResolution, strict: true, skipLibCheck: false, types: ['node'], rootDir: 'src', outDir },
      include: ['src'],
    }
    const file = `tsconfig.${r.moduleResolution}.json`
    writeFileSync(join(ctx.dir, file), JSON.stringify(tsconfig, null, 2))
    run(process.execPath, [TSC, '-p', file], { cwd: ctx.dir, timeout: LIMIT_MS.tsc })
    const { stdout } = run(process.execPath, [join(outDir, 'main.js')], { cwd: ctx.dir, timeout: LIMIT_MS.run })
    const lines = stdout.trim().split('\n')
    assert.is(lines.at(-1), 'done', stdout)
    for (const what of ['runtime remote ask', 'runtime/errors', 'runtime/hash', 'raft read', 'raft/core', 'lease acquire', 'saga compensated', 'testkit SimWorld', 'testkit/transcripts', 'node whenUp']) {
      assert.ok(lines.includes(`ok ${what}`), `${what} in ${basename(outDir)}:\n${stdout}`)
    }
  })
}

pack.run()
