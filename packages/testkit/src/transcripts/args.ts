/**
 * A directive's arguments: bare words in order, and `key=value` pairs. A
 * value may list items, `key=(a,b)` or `key=a,b`; `key=` is an empty list.
 */
export interface TranscriptArgs {
  positional: string[]
  named: Map<string, string[]>
}

/** Parses the words after a directive's command (already split on whitespace). */
export function parseArgs(tokens: readonly string[]): TranscriptArgs {
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
