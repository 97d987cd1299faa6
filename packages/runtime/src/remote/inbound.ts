import { ActorRef } from '../actor-ref.js'
import type { RefTarget } from '../actor-ref.js'
import { TroupeError, isTroupeError } from '../errors.js'
import type { Asks } from '../internal/asks.js'
import type { ReplyTarget } from '../internal/envelope.js'
import type { Codec } from './codec.js'
import type { Outbox } from './outbox.js'
import type { RemoteWatch, WatchableTarget } from './remote-watch.js'
import { Kind } from './wire.js'
import type { WireStopReason } from './wire.js'
import { fromWireError, toWireError } from './wire-error.js'

/** What inbound handling needs from its system. */
export interface InboundHost {
  readonly name: string
  readonly asks: Asks
  /** A live local actor at `path` with the given uid (0: any incarnation). */
  localTarget(path: string, uid: number): (RefTarget & WatchableTarget) | undefined
  deadLetter(recipient: string, type: string, payload: unknown, reason: string): void
  rejected(from: string, reason: string): void
}

/**
 * Frames from other nodes: each envelope is checked for shape and handed to
 * a local actor, the ask it answers, or death watch. Bad input is rejected
 * with a reason; it never throws into the transport.
 */
export class Inbound {
  constructor(
    private readonly host: InboundHost,
    private readonly codec: Codec,
    private readonly outbox: Outbox,
    private readonly watch: RemoteWatch,
  ) {}

  receive(from: string, frame: Uint8Array): void {
    try {
      this.codec.decodeSequence(frame, (envelope) => this.handle(from, envelope))
    } catch (err) {
      this.host.rejected(from, isTroupeError(err) ? err.message : `bad frame: ${(err as Error).message}`)
    }
  }

  private handle(from: string, e: unknown): void {
    if (!Array.isArray(e) || typeof e[0] !== 'number') return this.host.rejected(from, 'envelope is not an array with a kind')
    switch (e[0]) {
      case Kind.Tell:
        return this.tell(from, e)
      case Kind.Ask:
        return this.ask(from, e)
      case Kind.Reply:
        return this.reply(from, e)
      case Kind.Watch: {
        const [, path, uid, watchId] = e
        if (!isStr(path) || !isUint(uid) || !isUint(watchId)) return this.host.rejected(from, 'malformed watch')
        return this.watch.watchedFrom(from, watchId, this.host.localTarget(path, uid))
      }
      case Kind.Unwatch:
        return this.watch.unwatchedFrom(from, e[1])
      case Kind.Terminated: {
        const [, watchId, reason] = e
        if (!isUint(watchId) || typeof reason !== 'object' || reason === null) return this.host.rejected(from, 'malformed terminated')
        return this.watch.terminated(from, watchId, reason as WireStopReason)
      }
      default:
        return this.host.rejected(from, `unknown envelope kind ${String(e[0])}`)
    }
  }

  private tell(from: string, e: unknown[]): void {
    const [, path, uid, type, payload, sender] = e
    if (!isStr(path) || !isUint(uid) || !isStr(type) || !isRefOrNull(sender)) return this.host.rejected(from, 'malformed tell')
    const target = this.host.localTarget(path, uid)
    if (target === undefined) return this.host.deadLetter(path, type, payload, 'not-found')
    try {
      target.deliver(type, payload, sender, null)
    } catch {
      // A full mailbox with the 'reject' policy: the message is already a dead letter.
    }
  }

  private ask(from: string, e: unknown[]): void {
    const [, path, uid, type, payload, sender, askId] = e
    if (!isStr(path) || !isUint(uid) || !isStr(type) || !isRefOrNull(sender) || !isUint(askId)) return this.host.rejected(from, 'malformed ask')
    const reply = new ReplyToRemote(this.outbox, from, askId)
    const target = this.host.localTarget(path, uid)
    if (target === undefined) {
      this.host.deadLetter(path, type, payload, 'not-found')
      return reply.reject(new TroupeError('ACTOR_NOT_FOUND', `no actor at ${this.host.name}${path}`))
    }
    try {
      target.deliver(type, payload, sender, reply)
    } catch (err) {
      reply.reject(err)
    }
  }

  private reply(from: string, e: unknown[]): void {
    const [, askId, ok, value] = e
    if (!isUint(askId) || typeof ok !== 'boolean') return this.host.rejected(from, 'malformed reply')
    const ask = this.host.asks.take(askId, from)
    if (ask === undefined) return this.host.deadLetter(`ask #${askId}`, 'reply', value, 'late-reply')
    return ok ? ask.resolve(value) : ask.reject(fromWireError(value))
  }
}

/** The answering side of a remote ask: its answer goes back as a Reply envelope. */
class ReplyToRemote implements ReplyTarget {
  constructor(
    private readonly outbox: Outbox,
    private readonly node: string,
    private readonly askId: number,
  ) {}

  resolve(value: unknown): void {
    this.send(true, value)
  }

  reject(error: unknown): void {
    this.send(false, error)
  }

  private send(ok: boolean, value: unknown): void {
    try {
      this.outbox.enqueue(this.node, [Kind.Reply, this.askId, ok, ok ? value : toWireError(value)])
    } catch (err) {
      // The value could not be encoded (or is too large): the asker gets that error instead.
      this.outbox.enqueue(this.node, [Kind.Reply, this.askId, false, toWireError(err)])
    }
  }
}

const isStr = (v: unknown): v is string => typeof v === 'string'
const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0
const isRefOrNull = (v: unknown): v is ActorRef | null => v === null || v instanceof ActorRef
