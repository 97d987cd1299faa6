import { DiskError } from './disk-error.js'

/**
 * Splits a Disk path into its segments, rejecting anything that could leave
 * the disk's root: absolute paths, `..`, and ambiguous spellings (`.`, empty
 * segments, backslashes, NUL). Directory paths may be '' for the root itself.
 */
export function diskPathSegments(path: string, kind: 'file' | 'dir'): string[] {
  if (typeof path !== 'string') throw invalid(String(path), 'not a string')
  if (path === '') {
    if (kind === 'dir') return []
    throw invalid(path, 'empty file path')
  }
  if (path.startsWith('/')) throw invalid(path, 'absolute path')
  if (path.includes('\\')) throw invalid(path, 'backslash')
  if (path.includes('\0')) throw invalid(path, 'NUL byte')
  const segments = path.split('/')
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..') throw invalid(path, `segment '${segment}'`)
  }
  return segments
}

/** The parent directory of a valid file path ('' for a file at the root). */
export function diskPathParent(path: string): string {
  const at = path.lastIndexOf('/')
  return at < 0 ? '' : path.slice(0, at)
}

function invalid(path: string, why: string): DiskError {
  return new DiskError('INVALID_PATH', `invalid disk path ${JSON.stringify(path)}: ${why}`)
}
