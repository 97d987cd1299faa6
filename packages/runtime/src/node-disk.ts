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
 * the directory. Errors are `DiskError`s: NOT_FOUND for a missing file or
 * parent directory, IO_ERROR (with the system error as `cause`) otherwise.
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
    return this.serial([dir], () => fsCall(`mkdir ${dir}`, async () => void (await mkdir(full, { recursive: true }))))
  }

  async list(dir: string): Promise<string[]> {
    const full = this.full(dir, 'dir')
    try {
      return (await readdir(full)).sort()
    } catch (err) {
      if (errno(err) === 'ENOENT') return []
      throw toDiskError(`list ${dir}`, err)
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
        throw toDiskError(`read ${path}`, err)
      }
    })
  }

  async write(path: string, data: Uint8Array): Promise<void> {
    const full = this.full(path, 'file')
    return this.serial([path], () => fsCall(`write ${path}`, () => writeFile(full, data)))
  }

  async append(path: string, data: Uint8Array): Promise<void> {
    const full = this.full(path, 'file')
    return this.serial([path], () =>
      fsCall(`append ${path}`, async () => {
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
      fsCall(`appendDurable ${path}`, async () => {
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
    return this.serial([path], () => fsCall(`truncate ${path}`, () => truncate(full, size)))
  }

  async sync(path: string): Promise<void> {
    const full = this.full(path, 'file')
    return this.serial([path], () =>
      fsCall(`sync ${path}`, async () => {
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
      fsCall(`rename ${from} -> ${to}`, async () => {
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
        if (errno(err) !== 'ENOENT') throw toDiskError(`remove ${path}`, err)
      }
    })
  }

  async syncDir(dir: string): Promise<void> {
    const full = this.full(dir, 'dir')
    return this.serial([dir], () =>
      fsCall(`syncDir ${dir}`, async () => {
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

async function fsCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw toDiskError(what, err)
  }
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code
}

function toDiskError(what: string, err: unknown): DiskError {
  if (err instanceof DiskError) return err
  const code = errno(err) === 'ENOENT' ? 'NOT_FOUND' : 'IO_ERROR'
  return new DiskError(code, `${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err })
}
