import { TroupeError } from '../errors.js'
import type { ActorRef, RefTarget } from '../actor-ref.js'
import type { Transport } from '../transport.js'
import { Codec } from './codec.js'
import type { RefResolver } from './codec.js'
import { Inbound } from './inbound.js'
import type { InboundHost } from './inbound.js'
import { Outbox } from './outbox.js'
import { RemoteTarget } from './remote-target.js'
import { RemoteWatch } from './remote-watch.js'
import { RejectionLog } from './rejection-log.js'
import { NOTE_KIND, NextWire } from './next-wire.js'
import { Kind, WIRE_VERSION } from './wire.js'

/** What remoting needs from its system. */
export interface RemotingHost extends InboundHost {
  /** Turns an address from the wire into a ref of this system. */
  readonly resolveRef: RefResolver
  /** Outgoing frames to `to` were lost (the transport refused them). */
  dropped(to: string, reason: string): void
}

export interface RemotingOptions {
  /** Largest encoded message; larger sends throw MESSAGE_TOO_LARGE (default 4 MiB). */
  maxMessageBytes?: number
  /** Envelopes coalesced into one frame before it is sent (default 1024). */
  maxEnvelopesPerFrame?: number
  /** Bytes coalesced into one frame before it is sent (default 1 MiB). */
  maxFrameBytes?: number
  /** How the end-of-turn flush is scheduled (default queueMicrotask). */
  scheduleFlush?: (fn: () => void) => void
  /**
   * Envelopes of one incoming frame dispatched per turn of the event loop
   * (default 1024, and never below `maxEnvelopesPerFrame`); the rest of a
   * larger frame waits for the next turn, so other peers are served between.
   */
  inboundSliceEnvelopes?: number
  /** Largest incoming frame; a larger one is dropped and logged (default `maxFrameBytes` + `maxMessageBytes`, the largest a sender makes). */
  maxInboundFrameBytes?: number
  /** Bytes of one peer's frames waiting behind a sliced frame, each counted as at least 1 KiB; past it, frames are dropped and logged (default 32 MiB). */
  maxInboundQueuedBytes?: number
  /** Asks from one peer being answered on this node at once; more are answered with BACKPRESSURE (default 65,536). */
  maxAsksInFlightPerPeer?: number
  /** An ask left unanswered this long no longer holds a slot of `maxAsksInFlightPerPeer` once all are taken (default 60,000 ms). */
  askSlotHoldMs?: number
  /** Death watches one peer may hold on this node's actors; more are answered with Terminated, failed with WATCH_REFUSED (default 65,536). */
  maxWatchesPerPeer?: number
  /** How a sliced frame yields to the event loop (the system passes its `yieldTurn`; default setImmediate). */
  yieldTurn?: (fn: () => void) => void
  /**
   * The first ask id (default: the system's start time × 1024). Give each
   * run of a node a larger one than the last, so that a reply meant for an
   * earlier run under the same name matches no ask of this one.
   */
  firstAskId?: number
}

/**
 * Actor messaging across nodes over any Transport. This wires the parts:
 * the outbox (encoding and per-turn frames), inbound handling, death watch
 * across nodes, and the rules for sending to a node (down, saturated).
 * Pending asks belong to the system's `Asks`.
 */
export class Remoting {
  readonly codec: Codec
  readonly watch: RemoteWatch
  /** What wire version 3 adds (the test build); inert with peers of older versions. */
  readonly next: NextWire
  private readonly outbox: Outbox
  private readonly inbound: Inbound
  private readonly log: RejectionLog
  private halted = false
  /** Nodes declared down and not seen back since: new asks and watches fail at once instead of waiting. */
  private readonly downNodes = new Set<string>()

  constructor(
    private readonly host: RemotingHost,
    private readonly transport: Transport,
    options: RemotingOptions = {},
  ) {
    this.codec = new Codec(host.resolveRef)
    this.next = new NextWire((node) => this.peerVersion(node))
    const limits = {
      maxMessageBytes: options.maxMessageBytes ?? 4 * 1024 * 1024,
      maxEnvelopes: options.maxEnvelopesPerFrame ?? 1024,
      maxFrameBytes: options.maxFrameBytes ?? 1024 * 1024,
      scheduleFlush: options.scheduleFlush ?? queueMicrotask,
    }
    this.outbox = new Outbox(this.codec, transport, limits, (to, reason) => host.dropped(to, reason))
    this.log = new RejectionLog(host.asks.clock, (from, reason) => host.rejected(from, reason))
    this.watch = new RemoteWatch(this.outbox, this.downNodes, positive(options.maxWatchesPerPeer ?? 65_536, 'maxWatchesPerPeer'), (from, reason) => this.log.refused(from, 'watches', reason))
    this.inbound = new Inbound(host, this.codec, this.outbox, this.watch, {
      sliceEnvelopes: Math.max(positive(options.inboundSliceEnvelopes ?? 1024, 'inboundSliceEnvelopes'), limits.maxEnvelopes),
      maxFrameBytes: positive(options.maxInboundFrameBytes ?? limits.maxFrameBytes + limits.maxMessageBytes, 'maxInboundFrameBytes'),
      maxQueuedBytes: positive(options.maxInboundQueuedBytes ?? 32 * 1024 * 1024, 'maxInboundQueuedBytes'),
      maxAsksInFlight: positive(options.maxAsksInFlightPerPeer ?? 65_536, 'maxAsksInFlightPerPeer'),
      askSlotHoldMs: positive(options.askSlotHoldMs ?? 60_000, 'askSlotHoldMs'),
      yieldTurn: options.yieldTurn ?? ((fn) => void setImmediate(fn)),
    }, this.log, this.next)
  }

  /** Sends and handles nothing more (a crashed node). */
  halt(): void {
    this.halted = true
    this.outbox.halt()
    this.inbound.halt()
  }

  start(): Promise<void> {
    return this.transport.start(this.host.name, {
      receive: (from, frame) => {
        if (!this.halted) this.inbound.receive(from, frame)
      },
      disconnected: () => {},
    })
  }

  async stop(): Promise<void> {
    this.outbox.flush()
    await this.transport.stop()
  }

  /**
   * The wire version to encode for `node`: the one agreed on its connection,
   * else the oldest this node speaks (which every peer it may reach speaks).
   */
  peerVersion(node: string): number {
    return this.transport.peerVersion?.(node) ?? this.transport.versions?.min ?? WIRE_VERSION
  }

  /** Version 3 only (the test build): sends a note to `node`; false (nothing sent) when its link does not speak version 3. */
  sendNote(node: string, text: string): boolean {
    if (this.halted || !this.next.speaks(node)) return false
    this.outbox.enqueue(node, [NOTE_KIND, text])
    return true
  }

  addPeer(node: string, address: string): void {
    this.transport.addPeer?.(node, address)
  }

  /** The target of a ref to `path` on another node (uid 0: whichever incarnation lives there). */
  target(node: string, path: string, uid: number): RefTarget {
    return new RemoteTarget(this, node, path, uid)
  }

  /** The node is gone: its asks fail with NODE_UNREACHABLE and watchers get Terminated(node-down). */
  nodeDown(node: string): void {
    this.downNodes.add(node)
    this.host.asks.failNode(node)
    this.watch.nodeDown(node)
    this.inbound.nodeDown(node)
    this.log.forget(node)
    this.next.forget(node)
    this.outbox.discard(node)
  }

  /** `node` is back (a new incarnation joined): asks and watches go to it again. */
  nodeUp(node: string): void {
    this.downNodes.delete(node)
  }

  /** @internal Tells still go out to a down node: protocol messages (a removed node's last gossip, a join's welcome) must reach it. */
  sendTell(target: RemoteTarget, type: string, payload: unknown, sender: ActorRef | null): void {
    if (this.transport.writable?.(target.node) === false) throw backpressure(target.node)
    this.outbox.enqueue(target.node, this.next.extend(target.node, [Kind.Tell, target.path, target.uid, type, payload, sender]))
  }

  /** @internal */
  sendAsk(target: RemoteTarget, type: string, payload: unknown, sender: ActorRef | null, timeoutMs: number | undefined, resolve: (v: unknown) => void, reject: (e: unknown) => void): void {
    const ask = this.host.asks.start(target, type, timeoutMs, resolve, reject)
    if (this.downNodes.has(target.node)) return ask.reject(new TroupeError('NODE_UNREACHABLE', `node ${target.node} is down`))
    if (this.transport.writable?.(target.node) === false) return ask.reject(backpressure(target.node))
    const askId = this.host.asks.track(ask, target.node)
    try {
      this.outbox.enqueue(target.node, this.next.extend(target.node, [Kind.Ask, target.path, target.uid, type, payload, sender, askId]))
    } catch (err) {
      ask.reject(err)
    }
  }
}

function backpressure(node: string): TroupeError {
  return new TroupeError('BACKPRESSURE', `the link to ${node} is saturated; retry later`)
}

function positive(value: number, name: string): number {
  if (!(value > 0)) throw new TroupeError('INVALID_ARGUMENT', `remoting.${name} must be > 0, got ${value}`)
  return value
}
