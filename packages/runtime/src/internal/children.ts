import type { ActorRef } from '../actor-ref.js'
import { TroupeError } from '../errors.js'
import type { StopReason } from '../signals.js'

/** What a parent knows of a child. */
export interface Child {
  readonly name: string
  readonly self: ActorRef
  requestStop(reason: StopReason): void
}

/** The children of one actor by name, and what to do once they have all gone. */
export class Children<C extends Child> {
  private readonly byName = new Map<string, C>()
  private onGone: (() => void) | null = null

  get size(): number {
    return this.byName.size
  }

  get(name: string): C | undefined {
    return this.byName.get(name)
  }

  /** The children, for a forced stop that must reach them all. */
  list(): C[] {
    return [...this.byName.values()]
  }

  refs(): ActorRef[] {
    return [...this.byName.values()].map((c) => c.self)
  }

  /** Checks that `name` is free under `path`; throws NAME_TAKEN. */
  checkFree(name: string, path: string): void {
    if (this.byName.has(name)) throw new TroupeError('NAME_TAKEN', `${path}/${name} already exists`)
  }

  add(child: C): void {
    this.byName.set(child.name, child)
  }

  /** Stops every child; `then` runs once the last has terminated (at once when there are none). */
  stopAll(then: () => void): void {
    if (this.byName.size === 0) return then()
    this.onGone = then
    for (const child of this.byName.values()) child.requestStop({ kind: 'stopped' })
  }

  /** Takes out a child that terminated; false when it is not (or no longer) a child here. */
  remove(child: C): boolean {
    if (this.byName.get(child.name) !== child) return false
    this.byName.delete(child.name)
    return true
  }

  /** Runs what waited for the children to go, once none is left. */
  settle(): void {
    if (this.byName.size > 0 || this.onGone === null) return
    const then = this.onGone
    this.onGone = null
    then()
  }
}

/** Names of children: 1-256 characters, no '/', '#' or whitespace. */
export function validateName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 256 || /[/#\s]/.test(name)) {
    throw new TroupeError('INVALID_ARGUMENT', `invalid actor name ${JSON.stringify(name)}: 1-256 characters, no '/', '#' or spaces`)
  }
}
