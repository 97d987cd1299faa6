import type { ErrorCode } from './errors.js'
import { TroupeError } from './errors.js'
import type { ReplyTarget } from './internal/envelope.js'
import type { AnyProtocol, PayloadArgs, Protocol, ReplyOf } from './protocol.js'

/** What a ref points at: a local actor cell or a remote address. Internal. */
export interface RefTarget {
  readonly path: string
  readonly node: string
  readonly uid: number
  deliver(type: string, payload: unknown, sender: ActorRef | null, reply: ReplyTarget | null): void
  /** Creates the pending reply for an ask (its timer runs on the owning system's clock). */
  pendingAsk(timeoutMs: number | undefined, type: string, resolve: (v: unknown) => void, reject: (e: unknown) => void): ReplyTarget
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
    return new Promise((resolve, reject) => {
      const reply = this._target.pendingAsk(timeoutMs, type, resolve, reject)
      this._target.deliver(type, payload, null, reply)
    })
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
