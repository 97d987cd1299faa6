import { fdatasync, fdatasyncSync, writeSync } from 'node:fs'
import { mkdir, open, readFile, readdir, rename, truncate, unlink, writeFile, type FileHandle } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { Disk } from './disk.js'
import { DiskError } from './disk-error.js'
import { diskPathSegments } from './disk-path.js'

export interface NodeDiskOptions {
  /** Append handles kept open at once; the least recently used is closed beyond this. */
  maxOpenFiles?: number
  /**
   * How `appendDurable` runs: 'inline' (default) writes and fdatasyncs on
   * the calling thread, blocking the event loop for the sync (~0.2 ms on a
   * fast disk) but saving two thread-pool round trips, each of which waits
   * for a free core on a busy machine; 'pool' writes on the calling thread
   * (a copy into the page cache) and fdatasyncs on the thread pool (one
   * trip), so the loop runs on during the sync.
   */
  durableAppend?: 'inline' | 'pool'
}

/**
 * A `Disk` on the local file system, rooted at a directory. Operations on the
 * same path run in call order (appends are never reordered); operations on
 * different paths run concurrently. `sync` is fdatasync, `syncDir` an fsync of
 * the directory. Errors are `DiskError`s (the system error is the `cause`):
 * NOT_FOUND for a missing file or parent directory, NOT_WRITABLE for a write
 * on a read-only file system or without write permission, PERMISSION_DENIED
 * for a read without permission, IO_ERROR otherwise. Messages name the data
 * dir and what is wrong with it.
 */
export class NodeDisk implements Disk {
  readonly root: string
  private readonly maxOpenFiles: number
  private readonly durableAppendInline: boolean
  /** Open append handles by disk path, least recently used first. */
  private readonly handles = new Map<string, Promise<FileHandle>>()
  /** The last queued operation per disk path; a new one starts after it. */
  private readonly tails = new Map<string, Promise<void>>()

  constructor(root: string, options: NodeDiskOptions = {}) {
    this.root = resolve(root)
    this.maxOpenFiles = options.maxOpenFiles ?? 64
    if (!(this.maxOpenFiles >= 1)) throw new RangeError('maxOpenFiles must be at least 1')
    this.durableAppendInline = (options.durableAppend ?? 'inline') === 'inline'
  }

  async mkdir(dir: string): Promise<void> {
    const full = this.full(dir, 'dir')
    return this.serial([dir], () => this.fsCall(`mkdir ${dir}`, async () => void (await mkdir(full, { recursive: true }))))
  }

  async list(dir: string): Promise<string[]> {
    const full = this.full(dir, 'dir')
    try {
      return (await readdir(full)).sort()
    } catch (err) {
      if (errno(err) === 'ENOENT') return []
      throw toDiskError(`list ${dir}`, this.root, err)
    }
  }

  async read(path: string): Promise<Uint8Array | null> {
    const full = this.full(path, 'file')
    return this.serial([path], async () => {
      try {
        const buf = await readFile(full)
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
      } catch (err) {
        if (errno(err) === 'ENOENT') return null
        throw toDiskError(`read ${path}`, this.root, err)
      }
    })
  }

  async write(path: string, data: Uint8Array): Promise<void> {
    const full = this.full(path, 'file')
    return this.serial([path], () => this.fsCall(`write ${path}`, () => writeFile(full, data)))
  }

  async append(path: string, data: Uint8Array): Promise<void> {
    const full = this.full(path, 'file')
    return this.serial([path], () =>
      this.fsCall(`append ${path}`, async () => {
        const handle = await this.appendHandle(path, full)
        let done = 0
        while (done < data.byteLength) {
          const { bytesWritten } = await handle.write(data, done, data.byteLength - done)
          done += bytesWritten
        }
      }),
    )
  }

  async appendDurable(path: string, data: Uint8Array): Promise<void> {
    const full = this.full(path, 'file')
    return this.serial([path], () =>
      this.fsCall(`appendDurable ${path}`, async () => {
        const handle = await this.appendHandle(path, full)
        if (this.durableAppendInline) {
          for (let done = 0; done < data.byteLength; ) done += writeSync(handle.fd, data, done, data.byteLength - done)
          return fdatasyncSync(handle.fd)
        }
        // The write only copies into the page cache: done here, so the pool makes one trip (the sync).
        for (let done = 0; done < data.byteLength; ) done += writeSync(handle.fd, data, done, data.byteLength - done)
        await new Promise<void>((resolve, reject) => fdatasync(handle.fd, (err) => (err ? reject(err) : resolve())))
      }),
    )
  }

  async truncate(path: string, size: number): Promise<void> {
    const full = this.full(path, 'file')
    return this.serial([path], () => this.fsCall(`truncate ${path}`, () => truncate(full, size)))
  }

  async sync(path: string): Promise<void> {
    const full = this.full(path, 'file')
    return this.serial([path], () =>
      this.fsCall(`sync ${path}`, async () => {
        const cached = this.handles.get(path)
        if (cached) return (await cached).datasync()
        const handle = await open(full, 'r')
        try {
          await handle.datasync()
        } finally {
          await handle.close()
        }
      }),
    )
  }

  async rename(from: string, to: string): Promise<void> {
    const fullFrom = this.full(from, 'file')
    const fullTo = this.full(to, 'file')
    return this.serial([from, to], () =>
      this.fsCall(`rename ${from} -> ${to}`, async () => {
        // Cached handles would point at the moved (or replaced) inode.
        await this.closeHandle(from)
        await this.closeHandle(to)
        await rename(fullFrom, fullTo)
      }),
    )
  }

  async remove(path: string): Promise<void> {
    const full = this.full(path, 'file')
    return this.serial([path], async () => {
      await this.closeHandle(path)
      try {
        await unlink(full)
      } catch (err) {
        if (errno(err) !== 'ENOENT') throw toDiskError(`remove ${path}`, this.root, err)
      }
    })
  }

  async syncDir(dir: string): Promise<void> {
    const full = this.full(dir, 'dir')
    return this.serial([dir], () =>
      this.fsCall(`syncDir ${dir}`, async () => {
        const handle = await open(full, 'r')
        try {
          await handle.sync()
        } finally {
          await handle.close()
        }
      }),
    )
  }

  /** Waits for queued operations and closes every handle; later calls reopen them. */
  async close(): Promise<void> {
    await Promise.all([...this.tails.values()])
    const paths = [...this.handles.keys()]
    await Promise.all(paths.map((path) => this.closeHandle(path)))
  }

  private async fsCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      throw toDiskError(what, this.root, err)
    }
  }

  private full(path: string, kind: 'file' | 'dir'): string {
    return join(this.root, ...diskPathSegments(path, kind))
  }

  private appendHandle(path: string, full: string): Promise<FileHandle> {
    let handle = this.handles.get(path)
    if (handle) {
      this.handles.delete(path) // re-insert: most recently used last
    } else {
      handle = open(full, 'a')
      handle.catch(() => this.handles.get(path) === handle && this.handles.delete(path))
    }
    this.handles.set(path, handle)
    this.evictHandles()
    return handle
  }

  private evictHandles(): void {
    for (const path of this.handles.keys()) {
      if (this.handles.size <= this.maxOpenFiles) return
      // Closed in that path's queue so an operation in progress keeps its handle.
      const handle = this.handles.get(path)!
      this.handles.delete(path)
      void this.serial([path], () => closeQuietly(handle))
    }
  }

  private async closeHandle(path: string): Promise<void> {
    const handle = this.handles.get(path)
    if (!handle) return
    this.handles.delete(path)
    await closeQuietly(handle)
  }

  /** Runs `fn` after every earlier operation on any of `paths` has settled. */
  private serial<T>(paths: string[], fn: () => Promise<T>): Promise<T> {
    const before = paths.map((p) => this.tails.get(p)).filter((t) => t !== undefined)
    const run = (before.length === 0 ? Promise.resolve() : Promise.all(before)).then(fn)
    const tail = run.then(
      () => undefined,
      () => undefined,
    )
    for (const p of paths) this.tails.set(p, tail)
    void tail.then(() => {
      for (const p of paths) if (this.tails.get(p) === tail) this.tails.delete(p)
    })
    return run
  }
}

async function closeQuietly(handle: Promise<FileHandle>): Promise<void> {
  try {
    await (await handle).close()
  } catch {
    // A handle that failed to open or is already closed has nothing to release.
  }
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code
}

/** Operations that only read; every other one writes (or syncs what it wrote). */
const READS = new Set(['read', 'list'])

/**
 * A system error of operation `what` ("append wal/seg-1", "mkdir wal") on a
 * disk rooted at `root`, as a DiskError whose message says what is wrong
 * with the data dir: read-only, not writable, a missing directory.
 */
export function toDiskError(what: string, root: string, err: unknown): DiskError {
  if (err instanceof DiskError) return err
  const e = err as NodeJS.ErrnoException | null
  const code = errno(err)
  const where = typeof e?.path === 'string' && e.path !== root ? ` (${e.path})` : ''
  const reads = READS.has(what.split(' ', 1)[0])
  const detail = `${what}: ${e?.message ?? String(err)}`
  switch (code) {
    case 'EROFS':
      return new DiskError('NOT_WRITABLE', `data dir ${root} is not writable (read-only file system)${where}; ${detail}`, { cause: err })
    case 'EACCES':
    case 'EPERM':
      return reads
        ? new DiskError('PERMISSION_DENIED', `data dir ${root} is not readable by this process (permission denied)${where}; ${detail}`, { cause: err })
        : new DiskError('NOT_WRITABLE', `data dir ${root} is not writable by this process (permission denied)${where}; ${detail}`, { cause: err })
    case 'ENOENT':
      return new DiskError('NOT_FOUND', `${reads ? '' : 'cannot create it: '}a directory on the way does not exist${where} under data dir ${root}${reads ? '' : ' (make it with mkdir first)'}; ${detail}`, { cause: err })
    case 'ENOSPC':
      return new DiskError('IO_ERROR', `data dir ${root} is full (no space left on device); ${detail}`, { cause: err })
    default:
      return new DiskError('IO_ERROR', detail, { cause: err })
  }
}
