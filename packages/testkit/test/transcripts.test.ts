import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { checkTranscriptFile, parseArgs, parseTranscript, runTranscript, runTranscriptFile, transcriptFiles } from '../src/transcripts/index.js'
import type { TranscriptHandler } from '../src/transcripts/index.js'

// A tiny pure core to drive: a counter.
function counter(): TranscriptHandler {
  let n = 0
  return (command, args) => {
    switch (command) {
      case 'add':
        n += Number(args.positional[0] ?? 1)
        return `n=${n}`
      case 'echo':
        return [...args.named].map(([k, v]) => `${k}: ${v.join('|')}`).join('\n')
      default:
        throw new Error(`unknown command ${command}`)
    }
  }
}

const passing = ['# a comment', 'add 2', '----', 'n=2', '', 'add', '----', 'n=3', ''].join('\n')

test('parseArgs: bare words in order, key=value, lists, empty lists', () => {
  const a = parseArgs(['n1', 'voters=(1,2,3)', 'term=4', 'n2', 'learners=', 'ids=a,b'])
  assert.equal(a.positional, ['n1', 'n2'])
  assert.equal([...a.named], [['voters', ['1', '2', '3']], ['term', ['4']], ['learners', []], ['ids', ['a', 'b']]])
})

test('parseTranscript: comments and blanks are text, a directive keeps its line and output', () => {
  const chunks = parseTranscript(passing)
  assert.equal(chunks.map((c) => c.kind), ['text', 'directive', 'text', 'directive', 'text'])
  assert.equal(chunks[1], { kind: 'directive', directive: { line: 2, command: 'add 2', expected: 'n=2' } })
  assert.throws(() => parseTranscript('add\nn=1\n', 'x.txt'), /x\.txt:1: expected ----/)
})

test('runTranscript: matching output passes and rewrites to the same text', () => {
  const result = runTranscript(passing, counter())
  assert.equal(result.failures, [])
  assert.is(result.rewritten, passing)
})

test('runTranscript: passes args and the trimmed line to the handler', () => {
  const seen: string[] = []
  runTranscript('echo  a=(x,y) b=1 \n----\na: x|y\nb: 1\n', (command, args, line) => {
    seen.push(line)
    return counter()(command, args, line)
  })
  assert.equal(seen, ['echo  a=(x,y) b=1'])
})

test('runTranscript: a mismatch names file:line, the expected and the actual output', () => {
  const result = runTranscript(passing.replace('n=3', 'n=4'), counter(), 'counter.txt')
  assert.is(result.failures.length, 1)
  assert.is(result.failures[0], 'counter.txt:6: add\n--- expected\nn=4\n--- actual\nn=3')
  assert.is(result.rewritten, passing)
})

test('runTranscript: a handler that throws stops the run at its line', () => {
  assert.throws(() => runTranscript('# x\nboom\n----\nok\n', counter(), 'b.txt'), /b\.txt:2: boom: Error: unknown command boom/)
})

test('files: a mismatch is reported with the path; rewrite stores the actual output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'transcripts-'))
  try {
    const path = join(dir, 'counter.txt')
    writeFileSync(path, passing.replace('n=2', 'n=20'))
    writeFileSync(join(dir, 'a.txt'), passing)
    writeFileSync(join(dir, 'notes.md'), 'not a transcript')
    assert.equal(transcriptFiles(dir), [join(dir, 'a.txt'), path])

    const failures = runTranscriptFile(path, counter(), { rewrite: false })
    assert.is(failures.length, 1)
    assert.ok(failures[0]!.startsWith(`${path}:2: add 2\n`))
    assert.throws(() => checkTranscriptFile(path, counter(), { rewrite: false }), (e: Error) => e.message.includes(`${path}:2: add 2`))

    assert.equal(runTranscriptFile(path, counter(), { rewrite: true }), [])
    assert.is(readFileSync(path, 'utf8'), passing)
    checkTranscriptFile(path, counter(), { rewrite: false })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
