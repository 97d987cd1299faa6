// The README's first example is test/readme-example.ts, word for word (the
// typecheck covers it); this runs it as its own process and checks what it
// prints.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const EXAMPLE = fileURLToPath(new URL('./readme-example.ts', import.meta.url))
const README = fileURLToPath(new URL('../README.md', import.meta.url))

test('the README example is readme-example.ts', () => {
  const readme = readFileSync(README, 'utf8')
  const first = /```ts\n([\s\S]*?)```/.exec(readme)
  assert.ok(first, 'a ts block in the README')
  assert.fixture(first[1]!, readFileSync(EXAMPLE, 'utf8'))
})

test('the README example runs and prints what it promises', () => {
  const run = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', EXAMPLE], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } })
  assert.is(run.status, 0, run.stderr)
  assert.equal(run.stdout.trim().split('\n'), ['5', '5'])
})

test.run()
