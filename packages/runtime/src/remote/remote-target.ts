import type { ActorRef, RefTarget, Watcher } from '../actor-ref.js'
import { InvariantError } from '../errors.js'
import type { ReplyTarget } from '../internal/envelope.js'
import type { Remoting } from './remoting.js'

/** A ref target on another node: its messages, asks and watches go through remoting. */
export class RemoteTarget implements RefTarget {
  constructor(
    private readonly remoting: Remoting,
    readonly node: string,
    readonly path: string,
    readonly uid: number,
  ) {}

  get address(): string {
    return `${this.node}${this.path}`
  }

  deliver(type: string, payload: unknown, sender: ActorRef | null, reply: ReplyTarget | null): void {
    // Not invariant(cond, `...`): the message would be built on every tell.
    if (reply !== null) throw new InvariantError(`a reply is relayed only to a local actor; ask ${this.address} instead`)
    this.remoting.sendTell(this, type, payload, sender)
  }

  ask(type: string, payload: unknown, sender: ActorRef | null, timeoutMs: number | undefined, resolve: (v: unknown) => void, reject: (e: unknown) => void): void {
    this.remoting.sendAsk(this, type, payload, sender, timeoutMs, resolve, reject)
  }

  addWatcher(watcher: Watcher, ref: ActorRef): void {
    this.remoting.watch.watch(ref, this.node, this.path, this.uid, watcher)
  }

  removeWatcher(watcher: Watcher): void {
    this.remoting.watch.unwatch(this.node, this.path, watcher)
  }
}
