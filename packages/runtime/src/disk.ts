/**
 * The file-system edge that durable components (Raft logs, saga logs) write
 * through. The real implementation is `NodeDisk`; the testkit's simulated disk
 * implements the same contract and models crashes: anything not covered by a
 * completed `sync` may be lost, and the last unsynced append may be torn.
 *
 * Paths are '/'-separated and relative to the disk's root. Every method that
 * changes a file is visible to reads at once, but durable only after `sync`
 * (file contents) or `syncDir` (creation, rename and removal of names).
 */
export interface Disk {
  /** Creates the directory and its parents; no error if it exists. */
  mkdir(dir: string): Promise<void>
  /** Names (not paths) of the entries of a directory, sorted; [] if it does not exist. */
  list(dir: string): Promise<string[]>
  /** The whole file, or null if it does not exist. */
  read(path: string): Promise<Uint8Array | null>
  /** Creates or replaces the file with `data` (not durable until `sync` + `syncDir`). */
  write(path: string, data: Uint8Array): Promise<void>
  /** Appends to the file, creating it if needed (not durable until `sync`). */
  append(path: string, data: Uint8Array): Promise<void>
  /** Shortens the file to `size` bytes. */
  truncate(path: string, size: number): Promise<void>
  /** fdatasync: every completed write/append/truncate of this file is durable. */
  sync(path: string): Promise<void>
  /**
   * `append` then `sync` of the same file as one operation, for logs that
   * make every append durable: a crash may tear the appended bytes, never
   * the earlier ones; once it resolves, all of them are durable. Optional:
   * without it, callers append and then sync.
   */
  appendDurable?(path: string, data: Uint8Array): Promise<void>
  /** Atomically replaces `to` with `from` (durable after `syncDir` of the parent). */
  rename(from: string, to: string): Promise<void>
  /** Removes a file; no error if absent. */
  remove(path: string): Promise<void>
  /** fsync of the directory: creations, renames and removals in it are durable. */
  syncDir(dir: string): Promise<void>
  /** Releases open handles. */
  close(): Promise<void>
}
