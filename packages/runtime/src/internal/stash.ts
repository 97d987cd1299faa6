import { TroupeError } from '../errors.js'
import type { Envelope } from './envelope.js'

/** Messages an actor put aside (`ctx.stash()`), in arrival order, up to its capacity. */
export class Stash {
  private items: Envelope[] = []

  get size(): number {
    return this.items.length
  }

  /** Puts `env` aside; throws STASH_FULL when `capacity` are already there. */
  push(env: Envelope, capacity: number, path: string): void {
    if (this.items.length >= capacity) throw new TroupeError('STASH_FULL', `stash of ${path} is full (${capacity})`)
    this.items.push(env)
  }

  /** Everything stashed, oldest first; the stash is empty afterwards. */
  takeAll(): Envelope[] {
    const items = this.items
    this.items = []
    return items
  }
}
