// The saga machine's behaviour as transcripts (testdata/*.txt).
// REWRITE=1 node scripts/test.mjs saga stores the actual outputs as the
// expected ones (review the diff).
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { checkTranscriptFile, transcriptFiles } from '@troupe/testkit/transcripts'
import { test } from 'uvu'
import { MachineScript } from './machine-script.js'

for (const file of transcriptFiles(fileURLToPath(new URL('../testdata', import.meta.url)))) {
  test(`transcript ${basename(file)}`, () => {
    const script = new MachineScript()
    checkTranscriptFile(file, (command, args) => script.handle(command, args))
  })
}

test.run()
