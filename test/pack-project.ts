// A fresh npm project outside the repository, as a user of the packed
// packages has it: the helpers test/pack.test.ts and test/starter.test.ts
// share. Real processes (pnpm pack, npm install, tsc, node); every call has
// a generous limit so a stuck tool fails the test instead of hanging it.
import { spawnSync } from 'node:child_process'
import type { SpawnSyncOptions } from 'node:child_process'
import { mkdtempSync, realpathSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')

/** Limits against a hung tool, not expectations of speed. */
export const LIMIT_MS = { pack: 15 * 60_000, install: 10 * 60_000, tsc: 5 * 60_000, run: 2 * 60_000 }

/** A new empty directory under the OS temp dir (never inside the repository). */
export function tempProjectDir(prefix: string): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)))
  if (dir.startsWith(realpathSync(ROOT))) throw new Error(`the temp dir ${dir} is inside the repository`)
  return dir
}

/**
 * The environment of a fresh shell: without the npm_* and pnpm variables a
 * `pnpm test` run sets, which would otherwise steer npm in the project
 * (its registry, user config, workspace).
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|pnpm_|PNPM_)/i.test(k)) env[k] = v
  return { ...env, ...extra }
}

export interface Ran {
  stdout: string
  stderr: string
}

/** Runs a command to completion; throws with its output unless it exits 0. */
export function run(command: string, args: string[], options: SpawnSyncOptions & { timeout: number }): Ran {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: cleanEnv(), ...options })
  const stdout = String(r.stdout ?? '')
  const stderr = String(r.stderr ?? '')
  if (r.error || r.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} (in ${String(options.cwd)}) failed: ${r.error?.message ?? `exit ${r.status}, signal ${r.signal}`}\n--- stdout\n${stdout.slice(-4000)}\n--- stderr\n${stderr.slice(-4000)}`)
  }
  return { stdout, stderr }
}

/** Packs every publishable package into `dest` (scripts/pack.mjs); returns { name: tarball path }. */
export function packWorkspace(dest: string): Record<string, string> {
  const { stdout } = run(process.execPath, [join(ROOT, 'scripts', 'pack.mjs'), dest], { cwd: ROOT, timeout: LIMIT_MS.pack, env: process.env })
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, string>
}
