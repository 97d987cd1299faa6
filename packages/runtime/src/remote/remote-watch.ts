import type { ActorRef, Watcher } from '../actor-ref.js'
import type { WireStopReason } from './wire.js'
import { Kind } from './wire.js'
import type { Outbox } from './outbox.js'
import { fromWireReason, toWireReason } from './wire-error.js'

/** A local actor a remote node can watch. */
export interface WatchableTarget {
  addWatcher(watcher: Watcher): void
  removeWatcher(watcher: Watcher): void
}

/**
 * Death watch across nodes, both ways: watches this node placed on remote
 * actors (told by a Terminated envelope, or at once when the node is down),
 * and watches remote nodes placed on local actors (answered with one).
 */
export class RemoteWatch {
  private nextWatchId = 1
  /** Watches this node placed on remote actors. */
  private readonly watches = new Map<number, { node: string; ref: ActorRef; watcher: Watcher }>()
  /** Watches remote nodes placed on local actors, by `${node}:${watchId}`. */
  private readonly watchedBy = new Map<string, { target: WatchableTarget; watcher: Watcher; node: string }>()

  constructor(
    private readonly outbox: Outbox,
    /** Nodes declared down and not seen back since: a watch of them is told at once. */
    private readonly downNodes: ReadonlySet<string>,
  ) {}

  /** Watches the actor `ref` (at `path`/`uid` on `node`). */
  watch(ref: ActorRef, node: string, path: string, uid: number, watcher: Watcher): void {
    if (this.downNodes.has(node)) return watcher.notifyTerminated(ref, { kind: 'node-down', node })
    const id = this.nextWatchId++
    this.watches.set(id, { node, ref, watcher })
    this.outbox.enqueue(node, [Kind.Watch, path, uid, id])
  }

  unwatch(node: string, path: string, watcher: Watcher): void {
    for (const [id, w] of this.watches) {
      if (w.watcher !== watcher || w.node !== node || w.ref.path !== path) continue
      this.watches.delete(id)
      this.outbox.enqueue(node, [Kind.Unwatch, id])
    }
  }

  /** A remote node watches a local actor (`target` undefined: there is none). */
  watchedFrom(from: string, watchId: number, target: WatchableTarget | undefined): void {
    if (target === undefined) return this.outbox.enqueue(from, [Kind.Terminated, watchId, { kind: 'not-found' }])
    const key = `${from}:${watchId}`
    const watcher: Watcher = {
      notifyTerminated: (_ref, reason) => {
        this.watchedBy.delete(key)
        this.outbox.enqueue(from, [Kind.Terminated, watchId, toWireReason(reason)])
      },
    }
    this.watchedBy.set(key, { target, watcher, node: from })
    target.addWatcher(watcher)
  }

  unwatchedFrom(from: string, watchId: unknown): void {
    const key = `${from}:${String(watchId)}`
    const w = this.watchedBy.get(key)
    if (w === undefined) return
    this.watchedBy.delete(key)
    w.target.removeWatcher(w.watcher)
  }

  /** A watched remote actor terminated. */
  terminated(from: string, watchId: number, reason: WireStopReason): void {
    const watch = this.watches.get(watchId)
    if (watch === undefined || watch.node !== from) return
    this.watches.delete(watchId)
    watch.watcher.notifyTerminated(watch.ref, fromWireReason(reason))
  }

  /** `node` is down: watchers of its actors hear node-down; its watches of local actors end. */
  nodeDown(node: string): void {
    for (const [id, watch] of this.watches) {
      if (watch.node !== node) continue
      this.watches.delete(id)
      watch.watcher.notifyTerminated(watch.ref, { kind: 'node-down', node })
    }
    for (const [key, w] of this.watchedBy) {
      if (w.node !== node) continue
      this.watchedBy.delete(key)
      w.target.removeWatcher(w.watcher)
    }
  }
}
