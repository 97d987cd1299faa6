import { readFileSync, writeFileSync } from 'node:fs'
import { InteractionEnv, parseArgs } from './interaction-env.js'

/**
 * Datadriven transcripts (as in etcd's testdata/*.txt): a directive line,
 * "----", then its exact output up to a blank line. Lines starting with #
 * between directives are comments.
 */
interface Directive {
  line: number
  command: string
  expected: string
}

type Chunk = { kind: 'text'; text: string } | { kind: 'directive'; d: Directive }

export function parseTranscript(text: string): Chunk[] {
  const lines = text.split('\n')
  const chunks: Chunk[] = []
  let i = 0
  while (i < lines.length) {
    const l = lines[i]!
    if (l.trim() === '' || l.startsWith('#')) {
      chunks.push({ kind: 'text', text: l })
      i++
      continue
    }
    const start = i + 1
    if (lines[i + 1] !== '----') throw new Error(`line ${start}: expected ---- after directive`)
    i += 2
    const out: string[] = []
    while (i < lines.length && lines[i]!.trim() !== '') out.push(lines[i++]!)
    chunks.push({ kind: 'directive', d: { line: start, command: l, expected: out.join('\n') } })
  }
  return chunks
}

export interface TranscriptResult {
  /** Mismatches as readable diffs; empty if the transcript passed. */
  failures: string[]
  /** The file with every output replaced by the actual one. */
  rewritten: string
}

export function runTranscript(text: string): TranscriptResult {
  const env = new InteractionEnv()
  const failures: string[] = []
  const parts: string[] = []
  for (const c of parseTranscript(text)) {
    if (c.kind === 'text') {
      parts.push(c.text)
      continue
    }
    const [cmd, ...rest] = c.d.command.trim().split(/\s+/)
    let actual: string
    try {
      actual = env.handle(cmd!, parseArgs(rest))
    } catch (e) {
      throw new Error(`line ${c.d.line}: ${c.d.command}: ${(e as Error).stack ?? String(e)}`)
    }
    if (actual !== c.d.expected) {
      failures.push(`line ${c.d.line}: ${c.d.command}\n--- expected\n${c.d.expected}\n--- actual\n${actual}`)
    }
    parts.push(c.d.command, '----', actual)
  }
  return { failures, rewritten: parts.join('\n') }
}

/** Runs a transcript file; with rewrite, stores the actual output as the new golden output. */
export function runTranscriptFile(path: string, rewrite: boolean): string[] {
  const text = readFileSync(path, 'utf8')
  const result = runTranscript(text)
  if (rewrite && result.rewritten !== text) writeFileSync(path, result.rewritten)
  return rewrite ? [] : result.failures
}
