import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import { runTranscriptFile } from './transcript.js'

// REWRITE=1 pnpm test raft stores the actual output as the golden output.
const dir = fileURLToPath(new URL('../testdata', import.meta.url))
const rewrite = process.env.REWRITE === '1'

for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
  test(`transcript ${file}`, () => {
    const failures = runTranscriptFile(join(dir, file), rewrite)
    if (failures.length > 0) throw new Error(`${file}:\n${failures.join('\n\n')}`)
  })
}

test.run()
