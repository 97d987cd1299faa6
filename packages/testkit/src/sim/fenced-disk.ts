import type { Disk } from '@troupe/runtime'

const never = new Promise<never>(() => {})

/**
 * The disk as one incarnation of a node sees it. After that incarnation
 * crashed, its leftover code (a zombie the runtime cannot stop) must not
 * touch the disk the restarted node uses: its calls never settle, as if the
 * process were gone.
 */
export function fencedDisk(disk: Disk, alive: () => boolean): Disk {
  const guard =
    <A extends unknown[], R>(op: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      alive() ? op(...args) : never
  return {
    mkdir: guard((dir) => disk.mkdir(dir)),
    list: guard((dir) => disk.list(dir)),
    read: guard((path) => disk.read(path)),
    write: guard((path, data) => disk.write(path, data)),
    append: guard((path, data) => disk.append(path, data)),
    truncate: guard((path, size) => disk.truncate(path, size)),
    sync: guard((path) => disk.sync(path)),
    ...(disk.appendDurable ? { appendDurable: guard((path: string, data: Uint8Array) => disk.appendDurable!(path, data)) } : {}),
    rename: guard((from, to) => disk.rename(from, to)),
    remove: guard((path) => disk.remove(path)),
    syncDir: guard((dir) => disk.syncDir(dir)),
    close: guard(() => disk.close()),
  }
}
