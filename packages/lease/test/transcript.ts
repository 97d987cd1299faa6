import { readFileSync, writeFileSync } from 'node:fs'

/**
 * Datadriven transcripts (as in etcd's testdata/*.txt): a directive line,
 * "----", then its exact output up to a blank line. Lines starting with #
 * between directives are comments. The same format as @troupe/raft's.
 */
interface Directive {
  line: number
  command: string
  expected: string
}

type Chunk = { kind: 'text'; text: string } | { kind: 'directive'; d: Directive }

/** A directive's arguments: bare words in order, and `key=value` pairs (a value may list items: `(a,b)`). */
export interface Args {
  positional: string[]
  named: Map<string, string[]>
}

/** Runs one directive against the environment of a transcript; returns its output. */
export type Handler = (command: string, args: Args, line: string) => string

export function parseArgs(tokens: string[]): Args {
  const positional: string[] = []
  const named = new Map<string, string[]>()
  for (const t of tokens) {
    const eq = t.indexOf('=')
    if (eq < 0) {
      positional.push(t)
      continue
    }
    let v = t.slice(eq + 1)
    if (v.startsWith('(') && v.endsWith(')')) v = v.slice(1, -1)
    named.set(t.slice(0, eq), v.length === 0 ? [] : v.split(/[ ,]+/))
  }
  return { positional, named }
}

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

/** Runs every directive of `text` through `handle`, in order, and compares outputs. */
export function runTranscript(text: string, handle: Handler): TranscriptResult {
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
      actual = handle(cmd!, parseArgs(rest), c.d.command.trim())
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

/** Runs a transcript file; with rewrite, stores the actual output as the new expected output. */
export function runTranscriptFile(path: string, handle: Handler, rewrite: boolean): string[] {
  const text = readFileSync(path, 'utf8')
  const result = runTranscript(text, handle)
  if (rewrite && result.rewritten !== text) writeFileSync(path, result.rewritten)
  return rewrite ? [] : result.failures
}
