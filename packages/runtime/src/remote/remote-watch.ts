import type { ActorRef, Watcher } from '../actor-ref.js'
import { ErrorCode } from '../errors.js'
import type { WireError, WireStopReason } from './wire.js'
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
  private readonly watchedBy = new Map<string, WatchedBy>()
  /** How many entries of `watchedBy` each node holds. Invariant: each <= maxWatchesPerPeer. */
  private readonly heldBy = new Map<string, number>()

  constructor(
    private readonly outbox: Outbox,
    /** Nodes declared down and not seen back since: a watch of them is told at once. */
    private readonly downNodes: ReadonlySet<string>,
    /** Watches one node may hold on local actors; more are answered with Terminated (failed, WATCH_REFUSED). */
    private readonly maxWatchesPerPeer: number = Infinity,
    /** A watch was refused (for the log). */
    private readonly refused: (from: string, reason: string) => void = () => {},
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

  /**
   * A remote node watches a local actor (`target` undefined: there is none).
   * A watch id the node already uses replaces that watch. Past
   * `maxWatchesPerPeer` the watch is refused: the watcher is told at once
   * with Terminated, reason failed with a WATCH_REFUSED error.
   */
  watchedFrom(from: string, watchId: number, target: WatchableTarget | undefined): void {
    if (target === undefined) return this.outbox.enqueue(from, [Kind.Terminated, watchId, { kind: 'not-found' }])
    const key = `${from}:${watchId}`
    const previous = this.watchedBy.get(key)
    if (previous !== undefined) {
      previous.target.removeWatcher(previous.watcher)
    } else {
      const held = this.heldBy.get(from) ?? 0
      if (held >= this.maxWatchesPerPeer) return this.refuse(from, watchId)
      this.heldBy.set(from, held + 1)
    }
    const entry: WatchedBy = {
      target,
      node: from,
      watcher: {
        notifyTerminated: (_ref, reason) => {
          if (this.watchedBy.get(key) !== entry) return
          this.release(key, entry)
          this.outbox.enqueue(from, [Kind.Terminated, watchId, toWireReason(reason)])
        },
      },
    }
    this.watchedBy.set(key, entry)
    target.addWatcher(entry.watcher)
  }

  unwatchedFrom(from: string, watchId: unknown): void {
    const key = `${from}:${String(watchId)}`
    const w = this.watchedBy.get(key)
    if (w === undefined) return
    this.release(key, w)
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
    this.heldBy.delete(node)
  }

  /** Watches `node` holds on local actors. */
  heldFrom(node: string): number {
    return this.heldBy.get(node) ?? 0
  }

  private release(key: string, entry: WatchedBy): void {
    this.watchedBy.delete(key)
    const held = (this.heldBy.get(entry.node) ?? 1) - 1
    if (held > 0) this.heldBy.set(entry.node, held)
    else this.heldBy.delete(entry.node)
  }

  private refuse(from: string, watchId: number): void {
    this.refused(from, `node ${from} holds ${this.maxWatchesPerPeer} watches here (maxWatchesPerPeer); further watches refused with WATCH_REFUSED`)
    this.outbox.enqueue(from, [Kind.Terminated, watchId, this.refusal])
  }

  /** The stop reason of every refused watch (built once). */
  private get refusal(): WireStopReason {
    return (this.refusalReason ??= refusalReason(this.maxWatchesPerPeer))
  }
  private refusalReason: WireStopReason | undefined
}

function refusalReason(max: number): WireStopReason {
  const message = `the watched node holds ${max} watches from this node already (maxWatchesPerPeer); watch refused`
  const error: WireError = { name: 'TroupeError', code: ErrorCode.WATCH_REFUSED, message }
  return { kind: 'failed', error }
}

interface WatchedBy {
  readonly target: WatchableTarget
  readonly watcher: Watcher
  readonly node: string
}
