/**
 * Names inside the log's directory:
 *
 *   <dir>/wal-0000000000000007.log               segment 7
 *   <dir>/wal-0000000000000008.ckpt              segment 8, a checkpoint: it starts with the
 *                                                full state of every group, so older segments
 *                                                are garbage (deleted once it is durable)
 *   <dir>/wal-0000000000000008.ckpt.tmp          a checkpoint being written
 *   <dir>/snap/<group>.0000000000001234.5.snap   snapshot of <group> at index 1234, term 5
 *
 * Fixed-width numbers make name order the numeric order. Group ids are
 * percent-encoded so any id is one safe file name.
 */
const segmentPattern = /^wal-(\d{16})\.(log|ckpt)$/
export const tmpSuffix = '.tmp'
export const snapshotDirName = 'snap'
export const maxGroupIdLength = 128

export interface SegmentName {
  seq: number
  checkpoint: boolean
  name: string
}

export function segmentName(seq: number, checkpoint: boolean): string {
  return `wal-${String(seq).padStart(16, '0')}.${checkpoint ? 'ckpt' : 'log'}`
}

/** The parsed segment name, or undefined for any other file. */
export function parseSegmentName(name: string): SegmentName | undefined {
  const match = segmentPattern.exec(name)
  return match ? { seq: Number(match[1]), checkpoint: match[2] === 'ckpt', name } : undefined
}

export function snapshotFileName(group: string, index: number, term: number): string {
  return `${encodeURIComponent(group)}.${String(index).padStart(16, '0')}.${term}.snap`
}

export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`
}

/** The root (''), then each ancestor of `dir`, then `dir` itself. */
export function dirChain(dir: string): string[] {
  const chain = ['']
  if (dir === '') return chain
  const parts = dir.split('/')
  for (let i = 1; i <= parts.length; i++) chain.push(parts.slice(0, i).join('/'))
  return chain
}
