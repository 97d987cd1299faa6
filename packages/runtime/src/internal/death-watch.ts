import type { ActorRef, Watcher } from '../actor-ref.js'
import type { StopReason } from '../signals.js'

/**
 * Death watch of one actor, both sides: who is told when it terminates, and
 * which local actors it watches (it leaves their lists when it terminates
 * first). Watches of actors elsewhere are kept by their targets.
 */
export class DeathWatch {
  /** Told when this actor terminates: local actors, remote watchers, `whenTerminated`. */
  private watchers: Set<Watcher> | null = null
  /** Local actors this one watches, by their death watch. */
  private watching: Map<Watcher, DeathWatch> | null = null

  add(watcher: Watcher): void {
    ;(this.watchers ??= new Set()).add(watcher)
  }

  remove(watcher: Watcher): void {
    this.watchers?.delete(watcher)
  }

  /** `self` watches the local actor whose death watch is `target`. */
  watchLocal(self: Watcher, target: DeathWatch, key: Watcher): void {
    target.add(self)
    ;(this.watching ??= new Map()).set(key, target)
  }

  unwatchLocal(self: Watcher, target: DeathWatch, key: Watcher): void {
    target.remove(self)
    this.watching?.delete(key)
  }

  /** Stops tracking a watched actor (a failed child: the parent hears child-failed instead). */
  forget(key: Watcher): void {
    this.watching?.delete(key)
  }

  /** This actor terminated: it leaves the lists of the actors it watched. */
  leaveAll(self: Watcher): void {
    if (this.watching !== null) for (const target of this.watching.values()) target.remove(self)
    this.watching = null
  }

  /** Tells every watcher that `ref` terminated, except `skip`; the list is emptied. */
  notifyAll(ref: ActorRef, reason: StopReason, skip: Watcher | null): void {
    const watchers = this.watchers
    this.watchers = null
    if (watchers === null) return
    for (const w of watchers) if (w !== skip) w.notifyTerminated(ref, reason)
  }
}
