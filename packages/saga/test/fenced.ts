import type { Disk } from '@troupe/runtime'

const never = new Promise<never>(() => {})

/**
 * The disk as one process incarnation sees it: after `fence()` its calls
 * never settle, so code left over from a crashed incarnation cannot touch
 * the disk the next one uses (like testkit's SimWorld does for its nodes).
 */
export function fenced(disk: Disk): { disk: Disk; fence(): void } {
  let alive = true
  const guard =
    <A extends unknown[], R>(op: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      alive ? op(...args) : never
  return {
    fence: () => void (alive = false),
    disk: {
      mkdir: guard((dir) => disk.mkdir(dir)),
      list: guard((dir) => disk.list(dir)),
      read: guard((path) => disk.read(path)),
      write: guard((path, data) => disk.write(path, data)),
      append: guard((path, data) => disk.append(path, data)),
      truncate: guard((path, size) => disk.truncate(path, size)),
      sync: guard((path) => disk.sync(path)),
      rename: guard((from, to) => disk.rename(from, to)),
      remove: guard((path) => disk.remove(path)),
      syncDir: guard((dir) => disk.syncDir(dir)),
      close: guard(() => disk.close()),
    },
  }
}
