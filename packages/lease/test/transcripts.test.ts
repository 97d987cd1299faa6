// The lease table's behaviour as transcripts (testdata/*.txt): commands in,
// results and what the table told its listener out. REWRITE=1 pnpm test
// lease stores the actual output as the expected output (review the diff).
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { checkTranscriptFile, transcriptFiles } from '@troupe/testkit/transcripts'
import { test } from 'uvu'
import { LeaseTableEnv } from './table-env.js'

for (const file of transcriptFiles(fileURLToPath(new URL('../testdata', import.meta.url)))) {
  test(`transcript ${basename(file)}`, () => {
    const env = new LeaseTableEnv()
    checkTranscriptFile(file, (command, args, line) => env.handle(command, args, line))
  })
}

test.run()
