import { parseArgs } from './args.js'
import type { TranscriptArgs } from './args.js'

/** One directive of a transcript: its command line and the output written under it. */
export interface Directive {
  /** 1-based line of the command in the file. */
  line: number
  /** The command line as written. */
  command: string
  /** The lines between "----" and the next blank line, joined with "\n". */
  expected: string
}

/** A transcript in file order: blank and comment lines kept as text, and directives. */
export type TranscriptChunk = { kind: 'text'; text: string } | { kind: 'directive'; directive: Directive }

/** Runs one directive and returns its output. `line` is the whole command line, trimmed. */
export type TranscriptHandler = (command: string, args: TranscriptArgs, line: string) => string

export interface TranscriptResult {
  /** Mismatches as readable diffs (`<name>:<line>: <command>`); empty if the transcript passed. */
  failures: string[]
  /** The text with every output replaced by the actual one. */
  rewritten: string
}

/**
 * Splits a transcript into text and directives: a directive is a command
 * line, "----", then its output up to a blank line. Lines that are blank or
 * start with # between directives are text.
 */
export function parseTranscript(text: string, name = 'transcript'): TranscriptChunk[] {
  const lines = text.split('\n')
  const chunks: TranscriptChunk[] = []
  let i = 0
  while (i < lines.length) {
    const l = lines[i]!
    if (l.trim() === '' || l.startsWith('#')) {
      chunks.push({ kind: 'text', text: l })
      i++
      continue
    }
    const line = i + 1
    if (lines[i + 1] !== '----') throw new Error(`${name}:${line}: expected ---- after "${l}"`)
    i += 2
    const out: string[] = []
    while (i < lines.length && lines[i]!.trim() !== '') out.push(lines[i++]!)
    chunks.push({ kind: 'directive', directive: { line, command: l, expected: out.join('\n') } })
  }
  return chunks
}

/**
 * Runs every directive of `text` through `handle`, in order, and compares
 * each output with the expected one. `name` (usually the file's path)
 * prefixes the line numbers of failures. A handler that throws stops the
 * run with an error naming the directive.
 */
export function runTranscript(text: string, handle: TranscriptHandler, name = 'transcript'): TranscriptResult {
  const failures: string[] = []
  const parts: string[] = []
  for (const c of parseTranscript(text, name)) {
    if (c.kind === 'text') {
      parts.push(c.text)
      continue
    }
    const d = c.directive
    const line = d.command.trim()
    const [command, ...rest] = line.split(/\s+/)
    let actual: string
    try {
      actual = handle(command!, parseArgs(rest), line)
    } catch (e) {
      throw new Error(`${name}:${d.line}: ${d.command}: ${(e as Error).stack ?? String(e)}`)
    }
    if (actual !== d.expected) {
      failures.push(`${name}:${d.line}: ${d.command}\n--- expected\n${d.expected}\n--- actual\n${actual}`)
    }
    parts.push(d.command, '----', actual)
  }
  return { failures, rewritten: parts.join('\n') }
}
