import { ActorRef } from '../actor-ref.js'
import type { RefTarget } from '../actor-ref.js'
import { TroupeError, isTroupeError } from '../errors.js'
import type { ReplyTarget } from '../internal/envelope.js'
import type { StopReason } from '../signals.js'
import type { Transport } from '../transport.js'
import { Codec } from './codec.js'
import { Kind } from './wire.js'
import type { WireError, WireStopReason } from './wire.js'

/** What remoting needs from its system. */
export interface RemotingHost {
  readonly name: string
  /** Custom address spaces (entities) first; undefined for ordinary paths. */
  resolveRef(node: string, path: string, uid: number): ActorRef | undefined
  /** A live local actor at `path` with the given uid (0: any incarnation). */
  localTarget(path: string, uid: number): (RefTarget & WatchableTarget) | undefined
  pendingAsk(timeoutMs: number | undefined, describe: () => string, resolve: (v: unknown) => void, reject: (e: unknown) => void): ReplyTarget
  deadLetter(recipient: string, type: string, payload: unknown, reason: string): void
  rejected(from: string, reason: string): void
  /** Outgoing frames to `to` were lost (the transport refused them). */
  dropped(to: string, reason: string): void
}

/** A local actor a remote node can watch. */
export interface WatchableTarget {
  addWatcher(watcher: TerminationListener): void
  removeWatcher(watcher: TerminationListener): void
}

export interface TerminationListener {
  notifyTerminated(ref: ActorRef, reason: StopReason): void
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
   * The first ask id (default 1). Give each run of a node a larger one than
   * the last (the system uses its start time × 1024), so that a reply meant
   * for an earlier run under the same name matches no ask of this one.
   */
  firstAskId?: number
}

/**
 * Actor messaging across nodes over any Transport: encodes envelopes with the
 * CBOR codec, coalesces them per node and per turn into frames, answers
 * remote asks and relays death watch. Bad frames are rejected with a reason;
 * they never throw into the transport.
 */
export class Remoting {
  readonly codec: Codec
  private readonly outbox = new Map<string, { parts: Uint8Array[]; bytes: number }>()
  private flushScheduled = false
  private halted = false
  private readonly scheduleFlush: (fn: () => void) => void
  private readonly flushNow = () => this.flush()
  private nextAskId: number
  private readonly asks = new Map<number, { node: string; reply: ReplyTarget }>()
  private nextWatchId = 1
  /** Watches this node placed on remote actors. */
  private readonly watches = new Map<number, { node: string; ref: ActorRef; listener: TerminationListener }>()
  /** Watches remote nodes placed on local actors, by `${node}:${watchId}`. */
  private readonly watchedBy = new Map<string, { target: WatchableTarget; listener: TerminationListener; node: string }>()
  /** Nodes declared down and not seen back since: new asks and watches fail at once instead of waiting. */
  private readonly downNodes = new Set<string>()
  private readonly maxMessageBytes: number
  private readonly maxEnvelopes: number
  private readonly maxFrameBytes: number

  constructor(
    readonly host: RemotingHost,
    private readonly transport: Transport,
    options: RemotingOptions = {},
  ) {
    this.codec = new Codec((node, path, uid) => this.refFor(node, path, uid))
    this.maxMessageBytes = options.maxMessageBytes ?? 4 * 1024 * 1024
    this.maxEnvelopes = options.maxEnvelopesPerFrame ?? 1024
    this.maxFrameBytes = options.maxFrameBytes ?? 1024 * 1024
    this.scheduleFlush = options.scheduleFlush ?? queueMicrotask
    this.nextAskId = options.firstAskId ?? 1
  }

  /** Sends and handles nothing more (a crashed node). */
  halt(): void {
    this.halted = true
    this.outbox.clear()
  }

  start(): Promise<void> {
    return this.transport.start(this.host.name, {
      receive: (from, frame) => this.receive(from, frame),
      disconnected: () => {},
    })
  }

  async stop(): Promise<void> {
    this.flush()
    await this.transport.stop()
  }

  addPeer(node: string, address: string): void {
    this.transport.addPeer?.(node, address)
  }

  /** A ref to `path` on `node` (uid 0: whichever incarnation lives there). */
  refFor(node: string, path: string, uid = 0): ActorRef {
    const custom = this.host.resolveRef(node, path, uid)
    if (custom !== undefined) return custom
    if (node === this.host.name) {
      const local = this.host.localTarget(path, uid)
      return new ActorRef(local ?? new MissingTarget(this.host, node, path, uid))
    }
    return new ActorRef(new RemoteTarget(this, node, path, uid))
  }

  /** The node is gone: its asks fail with NODE_UNREACHABLE and watchers get Terminated(node-down). */
  nodeDown(node: string): void {
    this.downNodes.add(node)
    for (const [id, ask] of this.asks) {
      if (ask.node !== node) continue
      this.asks.delete(id)
      ask.reply.reject(new TroupeError('NODE_UNREACHABLE', `node ${node} is down`))
    }
    for (const [id, watch] of this.watches) {
      if (watch.node !== node) continue
      this.watches.delete(id)
      watch.listener.notifyTerminated(watch.ref, { kind: 'node-down', node })
    }
    for (const [key, w] of this.watchedBy) {
      if (w.node !== node) continue
      this.watchedBy.delete(key)
      w.target.removeWatcher(w.listener)
    }
    this.outbox.delete(node)
  }

  /** `node` is back (a new incarnation joined): asks and watches go to it again. */
  nodeUp(node: string): void {
    this.downNodes.delete(node)
  }

  // ---- outgoing --------------------------------------------------------

  /** @internal */
  sendMessage(target: RemoteTarget, type: string, payload: unknown, sender: ActorRef | null, reply: ReplyTarget | null): void {
    // Tells still go out: protocol messages (a removed node's last gossip, a join's welcome) must reach a down node.
    if (reply !== null && this.downNodes.has(target.node)) return reply.reject(new TroupeError('NODE_UNREACHABLE', `node ${target.node} is down`))
    if (this.transport.writable?.(target.node) === false) {
      const error = new TroupeError('BACKPRESSURE', `the link to ${target.node} is saturated; retry later`)
      if (reply === null) throw error
      return reply.reject(error)
    }
    if (reply === null) return this.enqueue(target.node, [Kind.Tell, target.path, target.uid, type, payload, sender])
    const askId = this.nextAskId++
    this.asks.set(askId, { node: target.node, reply })
    if (reply instanceof RemoteAskReply) reply.bind(this.asks, askId)
    try {
      this.enqueue(target.node, [Kind.Ask, target.path, target.uid, type, payload, sender, askId])
    } catch (err) {
      this.asks.delete(askId)
      reply.reject(err)
    }
  }

  /** @internal */
  watch(ref: ActorRef, target: RemoteTarget, listener: TerminationListener): void {
    if (this.downNodes.has(target.node)) return listener.notifyTerminated(ref, { kind: 'node-down', node: target.node })
    const id = this.nextWatchId++
    this.watches.set(id, { node: target.node, ref, listener })
    this.enqueue(target.node, [Kind.Watch, target.path, target.uid, id])
  }

  /** @internal */
  unwatch(target: RemoteTarget, listener: TerminationListener): void {
    for (const [id, w] of this.watches) {
      if (w.listener !== listener || w.node !== target.node || w.ref.path !== target.path) continue
      this.watches.delete(id)
      this.enqueue(target.node, [Kind.Unwatch, id])
    }
  }

  private enqueue(node: string, envelope: unknown[]): void {
    if (this.halted) return
    const bytes = this.codec.encode(envelope)
    if (bytes.length > this.maxMessageBytes) {
      throw new TroupeError('MESSAGE_TOO_LARGE', `message of ${bytes.length} bytes to ${node} exceeds maxMessageBytes ${this.maxMessageBytes}`)
    }
    let box = this.outbox.get(node)
    if (box === undefined) {
      box = { parts: [], bytes: 0 }
      this.outbox.set(node, box)
    }
    box.parts.push(bytes)
    box.bytes += bytes.length
    if (box.parts.length >= this.maxEnvelopes || box.bytes >= this.maxFrameBytes) this.flushNode(node, box)
    else if (!this.flushScheduled) {
      this.flushScheduled = true
      this.scheduleFlush(this.flushNow)
    }
  }

  /**
   * Sends each node's frame in the order the nodes got their first envelope
   * since the last flush (entries are removed as they go), so what a turn
   * produced first leaves first: an answer to a client is not queued behind
   * the replication traffic the same turn produced after it.
   */
  private flush(): void {
    this.flushScheduled = false
    for (const [node, box] of this.outbox) {
      this.outbox.delete(node)
      if (box.parts.length > 0) this.flushNode(node, box)
    }
  }

  private flushNode(node: string, box: { parts: Uint8Array[]; bytes: number }): void {
    const frame = box.parts.length === 1 ? box.parts[0] : Buffer.concat(box.parts, box.bytes)
    box.parts = []
    box.bytes = 0
    try {
      this.transport.send(node, frame)
    } catch (err) {
      // The envelopes are lost like any message on a failed link; asks time out.
      this.host.dropped(node, `frame of ${frame.length} bytes lost: ${(err as Error).message}`)
    }
  }

  // ---- incoming --------------------------------------------------------

  private receive(from: string, frame: Uint8Array): void {
    if (this.halted) return
    try {
      this.codec.decodeSequence(frame, (envelope) => this.handle(from, envelope))
    } catch (err) {
      this.host.rejected(from, isTroupeError(err) ? err.message : `bad frame: ${(err as Error).message}`)
    }
  }

  private handle(from: string, e: unknown): void {
    if (!Array.isArray(e) || typeof e[0] !== 'number') return this.host.rejected(from, 'envelope is not an array with a kind')
    switch (e[0]) {
      case Kind.Tell: {
        const [, path, uid, type, payload, sender] = e
        if (!isStr(path) || !isUint(uid) || !isStr(type) || !isRefOrNull(sender)) return this.host.rejected(from, 'malformed tell')
        const target = this.host.localTarget(path, uid)
        if (target === undefined) return this.host.deadLetter(path, type, payload, 'not-found')
        return safely(() => target.deliver(type, payload, sender, null))
      }
      case Kind.Ask: {
        const [, path, uid, type, payload, sender, askId] = e
        if (!isStr(path) || !isUint(uid) || !isStr(type) || !isRefOrNull(sender) || !isUint(askId)) return this.host.rejected(from, 'malformed ask')
        const reply = new ReplyToRemote(this, from, askId)
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
        return
      }
      case Kind.Reply: {
        const [, askId, ok, value] = e
        if (!isUint(askId) || typeof ok !== 'boolean') return this.host.rejected(from, 'malformed reply')
        const ask = this.asks.get(askId)
        if (ask === undefined || ask.node !== from) return this.host.deadLetter(`ask #${askId}`, 'reply', value, 'late-reply')
        this.asks.delete(askId)
        return ok ? ask.reply.resolve(value) : ask.reply.reject(fromWireError(value))
      }
      case Kind.Watch: {
        const [, path, uid, watchId] = e
        if (!isStr(path) || !isUint(uid) || !isUint(watchId)) return this.host.rejected(from, 'malformed watch')
        const target = this.host.localTarget(path, uid)
        if (target === undefined) return this.enqueue(from, [Kind.Terminated, watchId, { kind: 'not-found' }])
        const key = `${from}:${watchId}`
        const listener: TerminationListener = {
          notifyTerminated: (_ref, reason) => {
            this.watchedBy.delete(key)
            this.enqueue(from, [Kind.Terminated, watchId, toWireReason(reason)])
          },
        }
        this.watchedBy.set(key, { target, listener, node: from })
        return target.addWatcher(listener)
      }
      case Kind.Unwatch: {
        const [, watchId] = e
        const key = `${from}:${String(watchId)}`
        const w = this.watchedBy.get(key)
        if (w === undefined) return
        this.watchedBy.delete(key)
        return w.target.removeWatcher(w.listener)
      }
      case Kind.Terminated: {
        const [, watchId, reason] = e
        if (!isUint(watchId) || typeof reason !== 'object' || reason === null) return this.host.rejected(from, 'malformed terminated')
        const watch = this.watches.get(watchId)
        if (watch === undefined || watch.node !== from) return
        this.watches.delete(watchId)
        return watch.listener.notifyTerminated(watch.ref, fromWireReason(reason as WireStopReason))
      }
      default:
        return this.host.rejected(from, `unknown envelope kind ${String(e[0])}`)
    }
  }

  /** @internal */
  sendReply(node: string, askId: number, ok: boolean, value: unknown): void {
    try {
      this.enqueue(node, [Kind.Reply, askId, ok, ok ? value : toWireError(value)])
    } catch (err) {
      // The value could not be encoded (or is too large): the asker gets that error instead.
      this.enqueue(node, [Kind.Reply, askId, false, toWireError(err)])
    }
  }
}

/** A ref target on another node. */
export class RemoteTarget implements RefTarget {
  constructor(
    readonly remoting: Remoting,
    readonly node: string,
    readonly path: string,
    readonly uid: number,
  ) {}

  deliver(type: string, payload: unknown, sender: ActorRef | null, reply: ReplyTarget | null): void {
    this.remoting.sendMessage(this, type, payload, sender, reply)
  }

  pendingAsk(timeoutMs: number | undefined, type: string, resolve: (v: unknown) => void, reject: (e: unknown) => void): ReplyTarget {
    return new RemoteAskReply(this.remoting.host, timeoutMs, () => `ask '${type}' to ${this.node}${this.path}`, resolve, reject)
  }
}

/** The asking side of a remote ask: the local pending promise, removed from the ask table on timeout. */
class RemoteAskReply implements ReplyTarget {
  private readonly inner: ReplyTarget
  private table: Map<number, unknown> | null = null
  private askId = 0

  constructor(host: RemotingHost, timeoutMs: number | undefined, describe: () => string, resolve: (v: unknown) => void, reject: (e: unknown) => void) {
    this.inner = host.pendingAsk(
      timeoutMs,
      describe,
      resolve,
      (e) => {
        this.table?.delete(this.askId)
        reject(e)
      },
    )
  }

  bind(table: Map<number, unknown>, askId: number): void {
    this.table = table
    this.askId = askId
  }

  resolve(value: unknown): void {
    this.inner.resolve(value)
  }

  reject(error: unknown): void {
    this.inner.reject(error)
  }
}

/** The answering side of a remote ask. */
class ReplyToRemote implements ReplyTarget {
  constructor(
    private readonly remoting: Remoting,
    private readonly node: string,
    private readonly askId: number,
  ) {}

  resolve(value: unknown): void {
    this.remoting.sendReply(this.node, this.askId, true, value)
  }

  reject(error: unknown): void {
    this.remoting.sendReply(this.node, this.askId, false, error)
  }
}

/** A ref to a local path where nothing lives: messages become dead letters. */
class MissingTarget implements RefTarget {
  constructor(
    private readonly host: RemotingHost,
    readonly node: string,
    readonly path: string,
    readonly uid: number,
  ) {}

  deliver(type: string, payload: unknown, _sender: ActorRef | null, reply: ReplyTarget | null): void {
    this.host.deadLetter(this.path, type, payload, 'not-found')
    reply?.reject(new TroupeError('ACTOR_NOT_FOUND', `no actor at ${this.node}${this.path}`))
  }

  pendingAsk(timeoutMs: number | undefined, type: string, resolve: (v: unknown) => void, reject: (e: unknown) => void): ReplyTarget {
    return this.host.pendingAsk(timeoutMs, () => `ask '${type}' to ${this.node}${this.path}`, resolve, reject)
  }
}

function safely(fn: () => void): void {
  try {
    fn()
  } catch {
    // A full mailbox with the 'reject' policy: the message is already a dead letter.
  }
}

const isStr = (v: unknown): v is string => typeof v === 'string'
const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0
const isRefOrNull = (v: unknown): v is ActorRef | null => v === null || v instanceof ActorRef

export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) }
  }
  return { name: 'Error', message: String(err) }
}

export function fromWireError(value: unknown): Error {
  const w = (typeof value === 'object' && value !== null ? value : { message: String(value) }) as Partial<WireError>
  const message = typeof w.message === 'string' ? w.message : 'remote error'
  if (typeof w.code === 'string') return new TroupeError(w.code as never, message)
  const err = new Error(message)
  if (typeof w.name === 'string') err.name = w.name
  return err
}

function toWireReason(reason: StopReason): WireStopReason {
  switch (reason.kind) {
    case 'failed':
      return { kind: 'failed', error: toWireError(reason.error) }
    case 'node-down':
      return { kind: 'node-down', node: reason.node }
    default:
      return { kind: reason.kind }
  }
}

function fromWireReason(w: WireStopReason): StopReason {
  switch (w.kind) {
    case 'failed':
      return { kind: 'failed', error: fromWireError(w.error) }
    case 'node-down':
      return { kind: 'node-down', node: String(w.node) }
    case 'not-found':
      return { kind: 'not-found' }
    case 'system-stopped':
      return { kind: 'system-stopped' }
    default:
      return { kind: 'stopped' }
  }
}
