import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import { MachineScript } from './machine-script.js'
import { runTranscriptFile } from './transcript.js'

// REWRITE=1 node scripts/test.mjs saga stores the actual outputs as the expected ones.
const dir = fileURLToPath(new URL('../testdata', import.meta.url))
const rewrite = process.env.REWRITE === '1'

for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
  test(`transcript ${file}`, () => {
    const script = new MachineScript()
    const failures = runTranscriptFile(join(dir, file), (command, args) => script.handle(command, args), rewrite)
    if (failures.length > 0) throw new Error(`${file}:\n${failures.join('\n\n')}`)
  })
}

test.run()
