import { ActorRef } from '../actor-ref.js'
import type { RefTarget } from '../actor-ref.js'
import { TroupeError, isTroupeError } from '../errors.js'
import type { Asks } from '../internal/asks.js'
import type { Codec } from './codec.js'
import type { Outbox } from './outbox.js'
import type { RemoteWatch, WatchableTarget } from './remote-watch.js'
import { Kind } from './wire.js'
import type { WireStopReason } from './wire.js'
import { fromWireError } from './wire-error.js'
import { AskSlots, ReplyToRemote } from './remote-reply.js'
import type { RejectionLog } from './rejection-log.js'
import { NOTE_KIND } from './next-wire.js'
import type { NextWire } from './next-wire.js'

/** What inbound handling needs from its system. */
export interface InboundHost {
  readonly name: string
  readonly asks: Asks
  /** A live local actor at `path` with the given uid (0: any incarnation). */
  localTarget(path: string, uid: number): (RefTarget & WatchableTarget) | undefined
  deadLetter(recipient: string, type: string, payload: unknown, reason: string): void
  rejected(from: string, reason: string): void
}

export interface InboundLimits {
  /**
   * Envelopes dispatched from one peer's frame before the loop is yielded
   * (`yieldTurn`) and the rest waits its turn. Keep it at or above every
   * sender's `maxEnvelopesPerFrame`, so well-behaved frames are never sliced.
   */
  readonly sliceEnvelopes: number
  /** Largest frame accepted (bytes); a larger one is refused whole. */
  readonly maxFrameBytes: number
  /** Bytes of one peer's frames waiting behind a sliced one (each counts at least 1 KiB); past it, frames are refused. */
  readonly maxQueuedBytes: number
  /** Asks from one peer being answered here at once; more are refused with BACKPRESSURE. */
  readonly maxAsksInFlight: number
  /** An ask unanswered at least this long (ms) no longer holds its slot once all are taken. */
  readonly askSlotHoldMs: number
  /** How the rest of a sliced frame waits for the next turn of the event loop. */
  readonly yieldTurn: (fn: () => void) => void
}

/** A queued frame counts at least this many bytes against `maxQueuedBytes` (the Buffer itself costs about that). */
const FRAME_CHARGE_MIN_BYTES = 1024

/** What one peer has on this node: frames not yet dispatched and asks being answered. */
class Peer {
  /** Frames from this peer not fully dispatched, oldest first; frames[0] resumes at `offset`. */
  readonly frames: Uint8Array[] = []
  offset = 0
  /** Charged bytes of `frames`. Invariant: <= maxQueuedBytes + the first frame's charge. */
  queuedBytes = 0
  /** A frame of this peer is being decoded now (one may arrive meanwhile, re-entrantly). */
  busy = false
  readonly asks = new AskSlots()
  readonly handleEnvelope: (e: unknown) => void
  readonly resume: () => void

  constructor(
    readonly name: string,
    inbound: Inbound,
  ) {
    this.handleEnvelope = (e) => inbound.handle(this, e)
    this.resume = () => inbound.resume(this)
  }
}

/**
 * Frames from other nodes: each envelope is checked for shape and handed to
 * a local actor, the ask it answers, or death watch. Bad input is rejected
 * with a reason; it never throws into the transport. A frame of more than
 * `sliceEnvelopes` envelopes is dispatched in slices, one per turn of the
 * event loop, so one peer cannot hold the loop; that peer's later frames
 * wait behind it (order per sender holds), other peers' do not.
 */
export class Inbound {
  private readonly peers = new Map<string, Peer>()
  private halted = false
  /** Read only when a bound is hit: a clock read is not free, and a simulated clock's reads are part of its run. */
  private readonly now = () => this.host.asks.clock.now()

  constructor(
    private readonly host: InboundHost,
    private readonly codec: Codec,
    private readonly outbox: Outbox,
    private readonly watch: RemoteWatch,
    private readonly limits: InboundLimits,
    private readonly log: RejectionLog,
    private readonly next: NextWire,
  ) {}

  receive(from: string, frame: Uint8Array): void {
    if (this.halted) return
    const { maxFrameBytes } = this.limits
    if (frame.length > maxFrameBytes) {
      return this.log.refused(from, 'frame-bytes', `frame of ${frame.length} bytes exceeds maxInboundFrameBytes ${maxFrameBytes}; dropped`)
    }
    let peer = this.peers.get(from)
    if (peer === undefined) {
      peer = new Peer(from, this)
      this.peers.set(from, peer)
    }
    if (peer.busy || peer.frames.length > 0) return this.enqueue(peer, frame)
    peer.busy = true
    const next = this.decode(peer, frame, 0)
    peer.busy = false
    if (next >= 0) {
      // Ahead of any frame that arrived while this one was decoded.
      peer.frames.unshift(frame)
      peer.offset = next
      peer.queuedBytes += charge(frame)
    }
    if (peer.frames.length > 0) this.limits.yieldTurn(peer.resume)
  }

  /** @internal the next slice of the peer's oldest frame; yields again while frames remain. */
  resume(peer: Peer): void {
    if (this.halted || peer.frames.length === 0) return
    const frame = peer.frames[0]
    peer.busy = true
    const next = this.decode(peer, frame, peer.offset)
    peer.busy = false
    if (next >= 0) {
      peer.offset = next
    } else {
      peer.frames.shift()
      peer.offset = 0
      peer.queuedBytes -= charge(frame)
    }
    if (peer.frames.length > 0) this.limits.yieldTurn(peer.resume)
  }

  /** Dispatches nothing more (a crashed node). */
  halt(): void {
    this.halted = true
    this.peers.clear()
  }

  /** `node` is down: the asks it had in flight here no longer count. */
  nodeDown(node: string): void {
    const peer = this.peers.get(node)
    if (peer === undefined) return
    peer.asks.clear()
    if (peer.frames.length === 0) this.peers.delete(node)
  }

  private enqueue(peer: Peer, frame: Uint8Array): void {
    const { maxQueuedBytes } = this.limits
    if (peer.queuedBytes + charge(frame) > maxQueuedBytes) {
      return this.log.refused(peer.name, 'queued-bytes', `frames from ${peer.name} waiting to be dispatched exceed maxInboundQueuedBytes ${maxQueuedBytes}; frame of ${frame.length} bytes dropped`)
    }
    peer.frames.push(frame)
    peer.queuedBytes += charge(frame)
  }

  /** Dispatches envelopes of `frame` from `start`, one slice at most; returns where the next slice starts, or -1 when done. */
  private decode(peer: Peer, frame: Uint8Array, start: number): number {
    try {
      return this.codec.decodeSequence(frame, peer.handleEnvelope, this.limits.sliceEnvelopes, start)
    } catch (err) {
      this.host.rejected(peer.name, isTroupeError(err) ? err.message : `bad frame: ${(err as Error).message}`)
      return -1
    }
  }

  /** @internal */
  handle(peer: Peer, e: unknown): void {
    const from = peer.name
    if (!Array.isArray(e) || typeof e[0] !== 'number') return this.host.rejected(from, 'envelope is not an array with a kind')
    switch (e[0]) {
      case Kind.Tell:
        return this.tell(from, e)
      case Kind.Ask:
        return this.ask(peer, e)
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
      case NOTE_KIND:
        // Version 3 only (the test build): from a peer of an older version it is an unknown kind.
        if (this.next.speaks(from)) return void (this.next.note(from, e[1]) || this.host.rejected(from, 'malformed note'))
        return this.host.rejected(from, `unknown envelope kind ${String(e[0])}`)
      default:
        return this.host.rejected(from, `unknown envelope kind ${String(e[0])}`)
    }
  }

  private tell(from: string, e: unknown[]): void {
    const [, path, uid, type, payload, sender, field] = e
    if (!isStr(path) || !isUint(uid) || !isStr(type) || !isRefOrNull(sender)) return this.host.rejected(from, 'malformed tell')
    if (field !== undefined) this.next.received(from, field)
    const target = this.host.localTarget(path, uid)
    if (target === undefined) return this.host.deadLetter(path, type, payload, 'not-found')
    try {
      target.deliver(type, payload, sender, null)
    } catch {
      // A full mailbox with the 'reject' policy: the message is already a dead letter.
    }
  }

  private ask(peer: Peer, e: unknown[]): void {
    const from = peer.name
    const [, path, uid, type, payload, sender, askId, field] = e
    if (!isStr(path) || !isUint(uid) || !isStr(type) || !isRefOrNull(sender) || !isUint(askId)) return this.host.rejected(from, 'malformed ask')
    if (field !== undefined) this.next.received(from, field)
    const reply = new ReplyToRemote(this.outbox, from, askId, peer.asks)
    const target = this.host.localTarget(path, uid)
    if (target === undefined) {
      this.host.deadLetter(path, type, payload, 'not-found')
      return reply.reject(new TroupeError('ACTOR_NOT_FOUND', `no actor at ${this.host.name}${path}`))
    }
    const { maxAsksInFlight, askSlotHoldMs } = this.limits
    if (!reply.takeSlot(maxAsksInFlight, this.now, askSlotHoldMs)) {
      this.log.refused(from, 'asks', `${from} has ${maxAsksInFlight} asks in flight on ${this.host.name} (maxAsksInFlightPerPeer); more are refused with BACKPRESSURE`)
      return reply.reject(new TroupeError('BACKPRESSURE', `node ${this.host.name} is answering ${maxAsksInFlight} asks from ${from} already; retry later`))
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

const isStr = (v: unknown): v is string => typeof v === 'string'
const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0
const isRefOrNull = (v: unknown): v is ActorRef | null => v === null || v instanceof ActorRef

function charge(frame: Uint8Array): number {
  return frame.length > FRAME_CHARGE_MIN_BYTES ? frame.length : FRAME_CHARGE_MIN_BYTES
}
