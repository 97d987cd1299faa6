/**
 * Datadriven transcripts, in the style of etcd's `testdata/*.txt`: a file
 * lists commands, each followed by "----" and the exact output it must
 * produce, up to a blank line; lines starting with # are comments. A test
 * gives a handler `(command, args, line) → output` that drives a pure core;
 * the runner compares, reports mismatches as `file:line`, and with
 * `REWRITE=1` writes the actual outputs back so a reviewer reads the diff.
 */
export { parseArgs } from './args.js'
export type { TranscriptArgs } from './args.js'
export { parseTranscript, runTranscript } from './transcript.js'
export type { Directive, TranscriptChunk, TranscriptHandler, TranscriptResult } from './transcript.js'
export { checkTranscriptFile, rewriteRequested, runTranscriptFile, transcriptFiles } from './transcript-file.js'
export type { TranscriptFileOptions } from './transcript-file.js'
