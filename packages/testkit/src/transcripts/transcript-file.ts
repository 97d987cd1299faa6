import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runTranscript } from './transcript.js'
import type { TranscriptHandler } from './transcript.js'

export interface TranscriptFileOptions {
  /** Write the actual outputs into the file instead of comparing. Default: `REWRITE=1` in the environment. */
  rewrite?: boolean
}

/** Whether the environment asks for transcripts to be rewritten (`REWRITE=1`). */
export function rewriteRequested(): boolean {
  return process.env.REWRITE === '1'
}

/** The `.txt` files of `dir`, as full paths, sorted by name. */
export function transcriptFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => join(dir, f))
}

/**
 * Runs the transcript file at `path` and returns its mismatches. With
 * rewrite, stores the actual outputs in the file (only if they differ) and
 * returns none.
 */
export function runTranscriptFile(path: string, handle: TranscriptHandler, options: TranscriptFileOptions = {}): string[] {
  const rewrite = options.rewrite ?? rewriteRequested()
  const text = readFileSync(path, 'utf8')
  const result = runTranscript(text, handle, path)
  if (rewrite && result.rewritten !== text) writeFileSync(path, result.rewritten)
  return rewrite ? [] : result.failures
}

/** Like `runTranscriptFile`, but throws one error listing every mismatch (for a test body). */
export function checkTranscriptFile(path: string, handle: TranscriptHandler, options: TranscriptFileOptions = {}): void {
  const failures = runTranscriptFile(path, handle, options)
  if (failures.length > 0) throw new Error(`${failures.length} mismatch(es):\n\n${failures.join('\n\n')}`)
}
