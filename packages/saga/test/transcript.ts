import { readFileSync, writeFileSync } from 'node:fs'

/**
 * Datadriven transcripts (as in etcd's testdata/*.txt): a command line,
 * "----", then its exact output up to a blank line. Lines starting with #
 * between commands are comments. The runner knows nothing of sagas: each
 * command goes to `handle`, which returns the output.
 */
export type Handle = (command: string, args: Args) => string

/** A command's words: `key=value` pairs, and the others in order. */
export interface Args {
  words: string[]
  values: Map<string, string>
}

export function parseArgs(tokens: string[]): Args {
  const args: Args = { words: [], values: new Map() }
  for (const t of tokens) {
    const eq = t.indexOf('=')
    if (eq > 0) args.values.set(t.slice(0, eq), t.slice(eq + 1))
    else args.words.push(t)
  }
  return args
}

/** Runs one transcript; returns the mismatches (as readable diffs) and the file with every actual output in place. */
export function runTranscript(text: string, handle: Handle): { failures: string[]; rewritten: string } {
  const lines = text.split('\n')
  const failures: string[] = []
  const out: string[] = []
  let i = 0
  while (i < lines.length) {
    const line = lines[i]!
    if (line.trim() === '' || line.startsWith('#')) {
      out.push(line)
      i++
      continue
    }
    const at = i + 1
    if (lines[i + 1] !== '----') throw new Error(`line ${at}: expected ---- after "${line}"`)
    i += 2
    const expected: string[] = []
    while (i < lines.length && lines[i]!.trim() !== '') expected.push(lines[i++]!)
    const [command, ...rest] = line.trim().split(/\s+/)
    let actual: string
    try {
      actual = handle(command!, parseArgs(rest))
    } catch (e) {
      throw new Error(`line ${at}: ${line}: ${(e as Error).stack ?? String(e)}`)
    }
    if (actual !== expected.join('\n')) failures.push(`line ${at}: ${line}\n--- expected\n${expected.join('\n')}\n--- actual\n${actual}`)
    out.push(line, '----', actual)
  }
  return { failures, rewritten: out.join('\n') }
}

/** Runs a transcript file; with `rewrite`, stores the actual outputs in it instead of comparing. */
export function runTranscriptFile(path: string, handle: Handle, rewrite: boolean): string[] {
  const text = readFileSync(path, 'utf8')
  const result = runTranscript(text, handle)
  if (rewrite && result.rewritten !== text) writeFileSync(path, result.rewritten)
  return rewrite ? [] : result.failures
}
