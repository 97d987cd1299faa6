// The lease table's behaviour as transcripts (testdata/*.txt): commands in,
// results and what the table told its listener out. REWRITE=1 pnpm test
// lease stores the actual output as the expected output (review the diff).
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import { LeaseTableEnv } from './table-env.js'
import { runTranscriptFile } from './transcript.js'

const dir = fileURLToPath(new URL('../testdata', import.meta.url))
const rewrite = process.env.REWRITE === '1'

for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
  test(`transcript ${file}`, () => {
    const env = new LeaseTableEnv()
    const failures = runTranscriptFile(join(dir, file), (command, args, line) => env.handle(command, args, line), rewrite)
    if (failures.length > 0) throw new Error(`${file}:\n${failures.join('\n\n')}`)
  })
}

test.run()
