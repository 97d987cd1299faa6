// The Raft core's behaviour as transcripts (testdata/*.txt), driven through
// an in-memory cluster. REWRITE=1 pnpm test raft stores the actual output as
// the expected output (review the diff).
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { checkTranscriptFile, transcriptFiles } from '@troupe/testkit/transcripts'
import { test } from 'uvu'
import { InteractionEnv } from './interaction-env.js'

for (const file of transcriptFiles(fileURLToPath(new URL('../testdata', import.meta.url)))) {
  test(`transcript ${basename(file)}`, () => {
    const env = new InteractionEnv()
    checkTranscriptFile(file, (command, args) => env.handle(command, args))
  })
}

test.run()
