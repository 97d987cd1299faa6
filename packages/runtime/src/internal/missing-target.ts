import type { ActorRef, RefTarget, Watcher } from '../actor-ref.js'
import { TroupeError } from '../errors.js'
import type { Asks } from './asks.js'
import type { ReplyTarget } from './envelope.js'

/** What a missing target needs from its system. */
export interface MissingHost {
  readonly asks: Asks
  deadLetter(recipient: string, type: string, payload: unknown, reason: string): void
}

/**
 * A ref to a path on this node where no actor lives: messages become dead
 * letters, asks fail with ACTOR_NOT_FOUND and watchers hear `not-found`.
 */
export class MissingTarget implements RefTarget {
  constructor(
    private readonly host: MissingHost,
    readonly node: string,
    readonly path: string,
    readonly uid: number,
  ) {}

  get address(): string {
    return `${this.node}${this.path}`
  }

  deliver(type: string, payload: unknown, _sender: ActorRef | null, reply: ReplyTarget | null): void {
    this.host.deadLetter(this.path, type, payload, 'not-found')
    reply?.reject(new TroupeError('ACTOR_NOT_FOUND', `no actor at ${this.node}${this.path}`))
  }

  ask(type: string, payload: unknown, sender: ActorRef | null, timeoutMs: number | undefined, resolve: (v: unknown) => void, reject: (e: unknown) => void): void {
    this.deliver(type, payload, sender, this.host.asks.start(this, type, timeoutMs, resolve, reject))
  }

  addWatcher(watcher: Watcher, ref: ActorRef): void {
    watcher.notifyTerminated(ref, { kind: 'not-found' })
  }

  removeWatcher(): void {}
}
