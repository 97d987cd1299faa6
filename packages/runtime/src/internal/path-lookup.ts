import type { ActorCell } from './actor-cell.js'

/**
 * Finds live local actors by path (`/user/a/b`, `/system/x`) from the two
 * guardians, remembering recently resolved paths: remote traffic resolves
 * the same few paths over and over.
 */
export class PathLookup {
  private readonly cache = new Map<string, ActorCell>()

  constructor(
    private readonly user: ActorCell,
    private readonly system: ActorCell,
  ) {}

  find(path: string): ActorCell | undefined {
    const cached = this.cache.get(path)
    if (cached !== undefined) {
      if (!cached.isTerminated()) return cached
      this.cache.delete(path)
    }
    const cell = this.walk(path)
    if (cell !== undefined) {
      if (this.cache.size >= 10_000) this.cache.clear()
      this.cache.set(path, cell)
    }
    return cell
  }

  private walk(path: string): ActorCell | undefined {
    const parts = path.split('/')
    if (parts[0] !== '') return undefined
    let cell: ActorCell | undefined = parts[1] === 'user' ? this.user : parts[1] === 'system' ? this.system : undefined
    for (let i = 2; i < parts.length && cell; i++) cell = cell.childCell(parts[i])
    return cell && !cell.isTerminated() ? cell : undefined
  }
}
