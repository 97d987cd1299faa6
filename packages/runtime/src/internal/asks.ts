import type { Clock } from '../clock.js'
import { TroupeError } from '../errors.js'
import { DeadlineWheel } from './deadlines.js'
import type { Expiring } from './deadlines.js'
import type { ReplyTarget } from './envelope.js'

/** What an ask is addressed to, as its errors name it. */
export interface AskAddress {
  /** A path for a local actor, node and path for one elsewhere. */
  readonly address: string
}

/**
 * Every pending ask of one system: their deadlines (one wheel) and, for asks
 * that went to another node, their ids on the wire. An ask is one object, a
 * `PendingAsk`, from `ActorRef.ask` until it settles, whichever target it
 * went to; the target only decides how its message travels.
 */
export class Asks {
  /** @internal */
  readonly wheel: DeadlineWheel
  /** Asks waiting for a reply from another node, by ask id. */
  private readonly remote = new Map<number, PendingAsk>()
  private nextId: number

  constructor(
    readonly clock: Clock,
    /** The deadline of an ask that names none. */
    readonly defaultTimeoutMs: number,
    /** Where a reply goes that came after its ask had settled. */
    readonly lateReply: (recipient: string, value: unknown) => void,
    /**
     * The first ask id. Give each run of a node a larger one than the last,
     * so that a reply meant for an earlier run under the same name matches no
     * ask of this one.
     */
    firstId: number,
  ) {
    this.wheel = new DeadlineWheel(clock)
    this.nextId = firstId
  }

  /** Starts an ask of `type` to `to`: it rejects with ASK_TIMEOUT unless settled within `timeoutMs`. */
  start(to: AskAddress, type: string, timeoutMs: number | undefined, resolve: (v: unknown) => void, reject: (e: unknown) => void): PendingAsk {
    return new PendingAsk(this, to, type, timeoutMs ?? this.defaultTimeoutMs, resolve, reject)
  }

  /** Gives `ask` an id for the wire: a reply from `node` with that id settles it. */
  track(ask: PendingAsk, node: string): number {
    const id = this.nextId++
    ask.id = id
    ask.node = node
    this.remote.set(id, ask)
    return id
  }

  /** The ask a reply from `node` with `id` settles, taken out of the table; undefined when none waits. */
  take(id: number, node: string): PendingAsk | undefined {
    const ask = this.remote.get(id)
    if (ask === undefined || ask.node !== node) return undefined
    this.remote.delete(id)
    ask.id = 0
    return ask
  }

  /** `node` is down: every ask waiting for it fails with NODE_UNREACHABLE. */
  failNode(node: string): void {
    for (const ask of this.remote.values()) {
      if (ask.node === node) ask.reject(new TroupeError('NODE_UNREACHABLE', `node ${node} is down`))
    }
  }

  /** @internal the ask settled or expired while a reply from another node was awaited. */
  untrack(ask: PendingAsk): void {
    this.remote.delete(ask.id)
    ask.id = 0
  }
}

/**
 * One ask waiting for its answer: the reply target its message carries, with
 * a deadline in the wheel and, while it waits on another node, an id in the
 * table. It settles once; a reply after that is a dead letter.
 */
export class PendingAsk implements ReplyTarget, Expiring {
  private done = false
  wheelSlot = -1
  wheelPos = 0
  /** Its id on the wire while a reply from another node is awaited; 0 otherwise. */
  id = 0
  /** The node that reply is awaited from. */
  node = ''

  constructor(
    private readonly asks: Asks,
    private readonly to: AskAddress,
    private readonly type: string,
    readonly timeoutMs: number,
    private readonly onResolve: (v: unknown) => void,
    private readonly onReject: (e: unknown) => void,
  ) {
    asks.wheel.add(this, asks.clock.now() + timeoutMs)
  }

  expire(): void {
    if (this.done) return
    this.done = true
    if (this.id !== 0) this.asks.untrack(this)
    this.onReject(new TroupeError('ASK_TIMEOUT', `${this.describe()} timed out after ${this.timeoutMs} ms`))
  }

  resolve(value: unknown): void {
    if (this.done) return this.asks.lateReply(this.describe(), value)
    this.settle()
    this.onResolve(value)
  }

  reject(error: unknown): void {
    if (this.done) return
    this.settle()
    this.onReject(error)
  }

  private settle(): void {
    this.done = true
    this.asks.wheel.remove(this)
    if (this.id !== 0) this.asks.untrack(this)
  }

  private describe(): string {
    return `ask '${this.type}' to ${this.to.address}`
  }
}
