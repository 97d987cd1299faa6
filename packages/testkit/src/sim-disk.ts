import type { Disk } from '@troupe/runtime'
import { DiskError, diskPathParent, diskPathSegments } from '@troupe/runtime'

export interface SimDiskOptions {
  /** Seeded source of randomness in [0, 1): torn-write lengths and sync failures. */
  random: () => number
  /** Each sync and syncDir fails with IO_ERROR with this probability (nothing becomes durable). */
  failSyncProbability?: number
  /** On crash, a random prefix of each file's unsynced appended bytes survives. */
  tornWrites?: boolean
  /** Latency of every operation; the default resolves at once (no timers). */
  delay?: () => Promise<void>
}

/**
 * One file's bytes. Content durable on the medium is `durableCopy` when set;
 * otherwise (only appends since the last sync) the first `durableLen` bytes
 * of the current content, which saves copying a growing log on every sync.
 */
interface Inode {
  buf: Uint8Array
  len: number
  durableLen: number
  durableCopy: Uint8Array | null
}

const never = new Promise<never>(() => {})

/**
 * An in-memory `Disk` that forgets what was not made durable when it
 * `crash()`es: file contents survive only up to their last `sync`, names
 * (creation, rename, removal, mkdir) only once `syncDir` of their parent ran.
 * With `tornWrites`, a random prefix of a file's appends since its last sync
 * survives instead of none of them. The same object is then used by the
 * restarted node, like a real disk. Operations on one path run in call order;
 * operations still in flight at a crash never settle (their process is dead).
 */
export class SimDisk implements Disk {
  /** Successful file syncs. */
  syncs = 0
  /** Successful directory syncs. */
  dirSyncs = 0
  /** Bytes passed to write and append. */
  bytesWritten = 0
  crashes = 0

  private readonly random: () => number
  private readonly failSyncProbability: number
  private readonly tornWrites: boolean
  private readonly delay: () => Promise<void>
  private files = new Map<string, Inode>()
  private dirs = new Set<string>()
  private durableFiles = new Map<string, Inode>()
  private durableDirs = new Set<string>()
  private failNext: { path: string | undefined } | null = null
  private epoch = 0
  private readonly tails = new Map<string, Promise<void>>()

  constructor(options: SimDiskOptions) {
    this.random = options.random
    this.failSyncProbability = options.failSyncProbability ?? 0
    this.tornWrites = options.tornWrites ?? false
    this.delay = options.delay ?? (() => Promise.resolve())
  }

  /** The next sync or syncDir (of `path`, if given) fails with IO_ERROR. */
  failNextSync(path?: string): void {
    this.failNext = { path }
  }

  /** Simulates a power loss: everything not durable is gone (see the class comment). */
  crash(): void {
    this.epoch++
    this.crashes++
    this.tails.clear()
    const dirs = new Set([...this.durableDirs].filter((d) => this.reachable(d)))
    const revived = new Map<Inode, Inode>()
    const files = new Map<string, Inode>()
    for (const [path, inode] of this.durableFiles) {
      if (!this.reachable(diskPathParent(path))) continue
      let copy = revived.get(inode)
      if (!copy) revived.set(inode, (copy = this.survivor(inode)))
      files.set(path, copy)
    }
    this.files = files
    this.dirs = dirs
    this.durableFiles = new Map(files)
    this.durableDirs = new Set(dirs)
  }

  /** Media corruption: flips every bit of one byte of a file, durably. */
  corrupt(path: string, offset: number): void {
    const inode = this.files.get(path)
    if (!inode || offset >= inode.len) throw new RangeError(`no byte ${offset} in ${path}`)
    materialize(inode)
    inode.buf[offset]! ^= 0xff
    if (inode.durableCopy && offset < inode.durableCopy.length) inode.durableCopy[offset]! ^= 0xff
  }

  async mkdir(dir: string): Promise<void> {
    const segments = diskPathSegments(dir, 'dir')
    return this.op([dir], () => {
      for (let i = 1; i <= segments.length; i++) {
        const d = segments.slice(0, i).join('/')
        if (this.files.has(d)) throw ioError(`mkdir ${dir}: ${d} is a file`)
        this.dirs.add(d)
      }
    })
  }

  async list(dir: string): Promise<string[]> {
    diskPathSegments(dir, 'dir')
    return this.op([dir], () => {
      const names: string[] = []
      for (const path of [...this.files.keys(), ...this.dirs]) {
        if (diskPathParent(path) === dir && path !== dir) names.push(path.slice(dir === '' ? 0 : dir.length + 1))
      }
      return names.sort()
    })
  }

  async read(path: string): Promise<Uint8Array | null> {
    diskPathSegments(path, 'file')
    return this.op([path], () => {
      if (this.dirs.has(path)) throw ioError(`read ${path}: is a directory`)
      const inode = this.files.get(path)
      return inode ? inode.buf.slice(0, inode.len) : null
    })
  }

  async write(path: string, data: Uint8Array): Promise<void> {
    diskPathSegments(path, 'file')
    const copy = data.slice()
    return this.op([path], () => {
      const inode = this.fileForWrite(path, `write ${path}`)
      materialize(inode)
      inode.buf = copy
      inode.len = copy.length
      this.bytesWritten += copy.length
    })
  }

  async append(path: string, data: Uint8Array): Promise<void> {
    diskPathSegments(path, 'file')
    const copy = data.slice()
    return this.op([path], () => {
      const inode = this.fileForWrite(path, `append ${path}`)
      reserve(inode, inode.len + copy.length)
      inode.buf.set(copy, inode.len)
      inode.len += copy.length
      this.bytesWritten += copy.length
    })
  }

  async truncate(path: string, size: number): Promise<void> {
    diskPathSegments(path, 'file')
    return this.op([path], () => {
      const inode = this.existing(path, `truncate ${path}`)
      materialize(inode)
      if (size > inode.len) {
        reserve(inode, size)
        inode.buf.fill(0, inode.len, size)
      }
      inode.len = size
    })
  }

  async sync(path: string): Promise<void> {
    diskPathSegments(path, 'file')
    return this.op([path], () => {
      const inode = this.existing(path, `sync ${path}`)
      this.maybeFailSync(path)
      inode.durableCopy = null
      inode.durableLen = inode.len
      this.syncs++
    })
  }

  /** An append and a sync queued together: a crash between them tears the append, as with separate calls. */
  async appendDurable(path: string, data: Uint8Array): Promise<void> {
    const appended = this.append(path, data)
    const synced = this.sync(path)
    synced.catch(() => {}) // if the append fails, its error is the one reported
    await appended
    return synced
  }

  async rename(from: string, to: string): Promise<void> {
    diskPathSegments(from, 'file')
    diskPathSegments(to, 'file')
    return this.op([from, to], () => {
      const inode = this.existing(from, `rename ${from}`)
      this.parentMustExist(to, `rename to ${to}`)
      if (this.dirs.has(to)) throw ioError(`rename to ${to}: is a directory`)
      this.files.delete(from)
      this.files.set(to, inode)
    })
  }

  async remove(path: string): Promise<void> {
    diskPathSegments(path, 'file')
    return this.op([path], () => {
      if (this.dirs.has(path)) throw ioError(`remove ${path}: is a directory`)
      this.files.delete(path)
    })
  }

  async syncDir(dir: string): Promise<void> {
    diskPathSegments(dir, 'dir')
    return this.op([dir], () => {
      if (dir !== '' && !this.dirs.has(dir)) throw new DiskError('NOT_FOUND', `syncDir ${dir}: no such directory`)
      this.maybeFailSync(dir)
      for (const path of new Set([...this.files.keys(), ...this.durableFiles.keys()])) {
        if (diskPathParent(path) !== dir) continue
        const inode = this.files.get(path)
        if (inode) this.durableFiles.set(path, inode)
        else this.durableFiles.delete(path)
      }
      for (const d of new Set([...this.dirs, ...this.durableDirs])) {
        if (diskPathParent(d) !== dir || d === dir) continue
        if (this.dirs.has(d)) this.durableDirs.add(d)
        else this.durableDirs.delete(d)
      }
      this.dirSyncs++
    })
  }

  async close(): Promise<void> {
    await Promise.all([...this.tails.values()])
  }

  /** Runs `apply` after earlier operations on `paths` and the delay, unless a crash came first. */
  private op<T>(paths: string[], apply: () => T): Promise<T> {
    const epoch = this.epoch
    const before = paths.map((p) => this.tails.get(p)).filter((t) => t !== undefined)
    const run = Promise.all(before)
      .then(() => this.delay())
      .then(() => (this.epoch === epoch ? apply() : never))
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

  private maybeFailSync(path: string): void {
    const scripted = this.failNext && (this.failNext.path === undefined || this.failNext.path === path)
    if (scripted) this.failNext = null
    if (scripted || (this.failSyncProbability > 0 && this.random() < this.failSyncProbability)) {
      throw ioError(`sync ${path}: injected failure`)
    }
  }

  private existing(path: string, what: string): Inode {
    const inode = this.files.get(path)
    if (!inode) throw new DiskError('NOT_FOUND', `${what}: no such file`)
    return inode
  }

  private fileForWrite(path: string, what: string): Inode {
    const found = this.files.get(path)
    if (found) return found
    this.parentMustExist(path, what)
    if (this.dirs.has(path)) throw ioError(`${what}: is a directory`)
    const inode: Inode = { buf: new Uint8Array(0), len: 0, durableLen: 0, durableCopy: null }
    this.files.set(path, inode)
    return inode
  }

  private parentMustExist(path: string, what: string): void {
    const parent = diskPathParent(path)
    if (parent !== '' && !this.dirs.has(parent)) throw new DiskError('NOT_FOUND', `${what}: no directory ${parent}`)
  }

  /** True when `dir` and all its ancestors are durable (the root always is). */
  private reachable(dir: string): boolean {
    for (let d = dir; d !== ''; d = diskPathParent(d)) if (!this.durableDirs.has(d)) return false
    return true
  }

  /** The content a file has after a crash: its durable bytes, maybe plus a torn tail. */
  private survivor(inode: Inode): Inode {
    let content: Uint8Array
    if (inode.durableCopy) {
      content = inode.durableCopy.slice()
    } else {
      let keep = inode.durableLen
      const tail = inode.len - inode.durableLen
      if (this.tornWrites && tail > 0) keep += Math.floor(this.random() * (tail + 1))
      content = inode.buf.slice(0, keep)
    }
    return { buf: content, len: content.length, durableLen: content.length, durableCopy: null }
  }
}

/** Keeps the durable content safe before a change that is not an append. */
function materialize(inode: Inode): void {
  if (!inode.durableCopy) inode.durableCopy = inode.buf.slice(0, inode.durableLen)
}

function reserve(inode: Inode, size: number): void {
  if (size <= inode.buf.length) return
  const grown = new Uint8Array(Math.max(size, inode.buf.length * 2, 256))
  grown.set(inode.buf.subarray(0, inode.len))
  inode.buf = grown
}

function ioError(message: string): DiskError {
  return new DiskError('IO_ERROR', message)
}
