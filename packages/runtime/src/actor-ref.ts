import type { ErrorCode } from './errors.js'
import { TroupeError } from './errors.js'
import type { ReplyTarget } from './internal/envelope.js'
import type { StopReason } from './signals.js'
import type { AnyProtocol, PayloadArgs, Protocol, ReplyOf } from './protocol.js'

/**
 * What a ref points at: a local actor cell, an actor on another node, an
 * entity, or nothing (a local path where no actor lives). Internal.
 */
export interface RefTarget {
  readonly path: string
  readonly node: string
  readonly uid: number
  /** How an ask's errors name this target: the path here, node and path elsewhere. */
  readonly address: string
  /** A tell (reply null), or a message whose ask was started elsewhere and is relayed here. */
  deliver(type: string, payload: unknown, sender: ActorRef | null, reply: ReplyTarget | null): void
  /** Sends an ask; it settles through `resolve`/`reject`, at the latest with ASK_TIMEOUT after `timeoutMs` (default: the system's). */
  ask(type: string, payload: unknown, sender: ActorRef | null, timeoutMs: number | undefined, resolve: (v: unknown) => void, reject: (e: unknown) => void): void
  /** Tells `watcher` once the actor (`ref`) has terminated: at once when it already has or is not there. */
  addWatcher(watcher: Watcher, ref: ActorRef): void
  removeWatcher(watcher: Watcher, ref: ActorRef): void
}

/** Something that wants to hear when an actor terminates (an actor, a remote watcher, `whenTerminated`). */
export interface Watcher {
  notifyTerminated(ref: ActorRef, reason: StopReason): void
}

export interface AskOptions {
  /** Rejects with ASK_TIMEOUT after this many milliseconds (default: the system's askTimeoutMs). */
  timeoutMs?: number
}

/**
 * A typed address of an actor, local or remote. Refs can be sent inside
 * messages. Delivery is at most once and FIFO per sender→receiver pair.
 */
export class ActorRef<P extends Protocol = AnyProtocol> {
  /** @internal */
  readonly _target: RefTarget

  constructor(target: RefTarget) {
    this._target = target
  }

  /** Full path, e.g. `/user/orders/o-17`. */
  get path(): string {
    return this._target.path
  }

  /** Name of the node the actor lives on. */
  get node(): string {
    return this._target.node
  }

  /** Incarnation: a new actor with the same path gets a different uid. */
  get uid(): number {
    return this._target.uid
  }

  /** Fire and forget. Throws MAILBOX_FULL only for a local mailbox with the 'reject' overflow policy. */
  tell<K extends keyof P & string>(type: K, ...payload: PayloadArgs<P, K>): void {
    this._target.deliver(type, payload[0], null, null)
  }

  /** Request/response: resolves with the handler's return value; rejects with a TroupeError. */
  ask<K extends keyof P & string>(type: K, ...args: [...PayloadArgs<P, K>, options?: AskOptions]): Promise<ReplyOf<P, K>>
  ask(type: string, ...args: unknown[]): Promise<unknown> {
    const payload = args[0]
    const options = args[1] as AskOptions | undefined
    const timeoutMs = options?.timeoutMs
    if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0 && Number.isFinite(timeoutMs))) {
      return Promise.reject(invalid(`ask timeoutMs must be a positive finite number, got ${String(timeoutMs)}`))
    }
    return new Promise((resolve, reject) => this._target.ask(type, payload, null, timeoutMs, resolve, reject))
  }

  /** Two refs are equal when they name the same incarnation of the same actor. */
  equals(other: ActorRef<Protocol> | null | undefined): boolean {
    return !!other && other._target.uid === this._target.uid && other._target.path === this._target.path && other._target.node === this._target.node
  }

  toString(): string {
    return `ActorRef(${this._target.node}${this._target.path}#${this._target.uid})`
  }
}

function invalid(message: string): TroupeError {
  return new TroupeError('INVALID_ARGUMENT' satisfies ErrorCode, message)
}
