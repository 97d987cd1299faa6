// How to run the repo's pnpm from a script: the pnpm that runs us (a
// `pnpm <script>`), else `npx -y pnpm@<packageManager version>`.
import { readFileSync } from 'node:fs'

const root = new URL('..', import.meta.url)

export function pnpmCommand() {
  const execPath = process.env.npm_execpath
  if (execPath && /pnpm/.test(execPath)) return { command: process.execPath, args: [execPath] }
  const manager = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).packageManager ?? 'pnpm'
  return { command: 'npx', args: ['-y', manager] }
}
