// `pnpm sim` as a user runs it: a child process. Every bad argument prints
// the usage and exits 2, with no stack trace; a good run exits 0.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const CLI = fileURLToPath(new URL('../src/cli/sim.ts', import.meta.url))

function sim(args: string[], env: Record<string, string> = {}) {
  const { SIM_SEED: _ignored, ...rest } = process.env
  const run = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', CLI, ...args], {
    encoding: 'utf8',
    env: { ...rest, ...env, FORCE_COLOR: '0' },
  })
  return { code: run.status, out: run.stdout, err: run.stderr }
}

const BAD: Array<{ args: string[]; env?: Record<string, string>; says: RegExp }> = [
  { args: ['--seeds', 'abc'], says: /--seeds must be a safe integer, got 'abc'/ },
  { args: ['--seeds', '0'], says: /--seeds must be between 1 and/ },
  { args: ['--seeds=-3'], says: /--seeds must be between 1 and/ },
  { args: ['--seeds', '-3'], says: /--seeds/ },
  { args: ['--seeds', '1.5'], says: /--seeds must be a safe integer/ },
  { args: ['--seeds', '99999999999999999999'], says: /--seeds must be a safe integer/ },
  { args: ['--seeds'], says: /--seeds/ },
  { args: ['--first', 'x'], says: /--first must be a safe integer/ },
  { args: ['--first', '9007199254740991', '--seeds', '2'], says: /largest safe integer/ },
  { args: ['--frobnicate'], says: /--frobnicate/ },
  { args: ['stray'], says: /stray/ },
  { args: ['--module', 'no/such/file.ts'], says: /--module no\/such\/file\.ts: no such file/ },
  { args: ['--scenario', 'no-such-scenario', '--seeds', '1'], says: /unknown scenario\(s\): no-such-scenario/ },
  { args: ['--seeds', '1'], env: { SIM_SEED: 'abc' }, says: /SIM_SEED must be a safe integer/ },
]

for (const bad of BAD) {
  const label = `${bad.env ? Object.entries(bad.env).map(([k, v]) => `${k}=${v} `).join('') : ''}${bad.args.join(' ')}`
  test(`bad arguments print the usage and exit 2: ${label}`, () => {
    const { code, err } = sim(bad.args, bad.env)
    assert.is(code, 2, err)
    assert.match(err, bad.says)
    assert.match(err, /usage: pnpm sim/)
    assert.not.match(err, /\n\s+at /, 'no stack trace')
  })
}

test('--help prints the usage and exits 0', () => {
  const { code, out } = sim(['--help'])
  assert.is(code, 0)
  assert.match(out, /usage: pnpm sim/)
})

test('a good run exits 0', () => {
  const { code, out, err } = sim(['--seeds', '2', '--scenario', 'actor-chatter'])
  assert.is(code, 0, err)
  assert.match(out, /actor-chatter: 2\/2 passed/)
})

test.run()
