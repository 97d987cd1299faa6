// Opens the node's data directory and says plainly what is wrong with one
// that cannot be written, instead of a NOT_FOUND with an ENOENT message.
import { mkdir, open, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { NodeDisk } from '@troupe/runtime'
import { NodeError } from './node-error.js'

const WHY: Record<string, string> = {
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted (immutable or protected directory)',
  ENOTDIR: 'a part of the path is a file, not a directory',
  ENOENT: 'a part of the path does not exist and cannot be created',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
}

/** Creates `dir` if needed, proves a file can be created, synced and removed in it, and returns a NodeDisk on it. */
export async function openDataDir(dir: string): Promise<NodeDisk> {
  const root = resolve(dir)
  const probe = join(root, `.write-probe-${process.pid}`)
  try {
    await mkdir(root, { recursive: true })
    const handle = await open(probe, 'w')
    try {
      await handle.write('ok')
      await handle.datasync()
    } finally {
      await handle.close()
    }
    await unlink(probe)
  } catch (err) {
    throw notWritable(root, err)
  }
  return new NodeDisk(root)
}

/** A DATA_DIR_NOT_WRITABLE error for a file-system error under `root` (or the error itself when it is not one). */
export function notWritable(root: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException)?.code ?? (((err as { cause?: NodeJS.ErrnoException })?.cause)?.code)
  const why = code === undefined ? undefined : WHY[code]
  if (why === undefined) return err
  return new NodeError('DATA_DIR_NOT_WRITABLE', `data directory ${root} is not writable: ${why} (${code}). Point dataDir at a writable directory.`, { cause: err, subject: root })
}
