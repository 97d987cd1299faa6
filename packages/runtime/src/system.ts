import { EventEmitter } from 'eventemitter3'
import { ActorRef } from './actor-ref.js'
import type { Clock } from './clock.js'
import { realClock } from './clock.js'
import type { ActorDef, SpawnOptions } from './define.js'
import { defineBehavior } from './define.js'
import { TroupeError } from './errors.js'
import { ActorCell } from './internal/actor-cell.js'
import type { CellHost, Watcher } from './internal/actor-cell.js'
import { Dispatcher } from './internal/dispatcher.js'
import { DeadlineWheel } from './internal/deadlines.js'
import type { Expiring } from './internal/deadlines.js'
import type { ReplyTarget } from './internal/envelope.js'
import type { AnyProtocol, Protocol } from './protocol.js'
import { Codec } from './remote/codec.js'
import { RemoteTarget, Remoting } from './remote/remoting.js'
import type { RemotingHost, RemotingOptions } from './remote/remoting.js'
import type { Transport } from './transport.js'
import type { StopReason } from './signals.js'

export interface SystemOptions {
  /** This node's name; part of every ref's address (default 'local'). */
  name?: string
  clock?: Clock
  /** Uniform in [0, 1): used for backoff jitter and anything else random. */
  random?: () => number
  /** Default ask timeout in milliseconds (default 5000). */
  askTimeoutMs?: number
  /** Messages an actor handles before others get a turn (default 64). */
  throughput?: number
  /** Messages handled before yielding to I/O (default 20000). */
  turnBudget?: number
  /** How the dispatcher yields to I/O (default setImmediate). */
  yieldTurn?: (fn: () => void) => void
  /** How ready work is scheduled right after the current turn (default queueMicrotask); for the simulator. */
  scheduleDrain?: (fn: () => void) => void
  /** Connects this node to others; call `start()` before use. */
  transport?: Transport
  remoting?: RemotingOptions
}

/** Resolves refs of a custom address space; undefined for paths it does not own. */
export type RefResolverHook = (node: string, path: string, uid: number) => ActorRef | undefined

export interface DeadLetter {
  recipient: string
  type: string
  payload: unknown
  /** 'stopped' | 'mailbox-full' | 'unknown-message' | 'late-reply' | 'not-found' | 'restart' | ... */
  reason: string
}

export interface SystemEvents {
  deadLetter: [DeadLetter]
  actorFailed: [{ ref: ActorRef; error: unknown; action: string }]
  actorStopped: [{ ref: ActorRef; reason: StopReason }]
  /** Input from another node was rejected (malformed frame, unknown kind, ...). */
  inboundRejected: [{ from: string; reason: string }]
  /** A frame to another node was refused by the transport (its messages are lost; asks time out). */
  outboundDropped: [{ to: string; reason: string }]
}

const Guardian = defineBehavior<Protocol>({ name: 'guardian', receive() {} })

/** Every node with a transport runs this actor; it spawns registered kinds for remote callers. */
const SPAWNER_PATH = '/system/spawner'
type SpawnerProtocol = { spawn(request: { kind: string; name: string | null }): ActorRef }

/**
 * Ask ids of a run start at its start time × 1024 (ms), so a restart under
 * the same name never reuses an id an earlier run may still get a reply for
 * (unless that run averaged over 1024 asks per ms). Safe integers until 2248.
 */
function firstAskId(nowMs: number): number {
  return Math.max(0, Math.floor(nowMs)) * 1024 + 1
}

/**
 * A node's actor system: spawns top-level actors under `/user`, owns the
 * dispatcher, the clock, pending asks and dead letters.
 */
export class ActorSystem {
  readonly name: string
  readonly clock: Clock
  readonly random: () => number
  readonly askTimeoutMs: number
  /** Lifecycle and diagnostic events. */
  readonly events = new EventEmitter<SystemEvents>()
  private deadLetterTotal = 0
  private uidCounter = 0
  private readonly dispatcher: Dispatcher
  private readonly deadlines: DeadlineWheel
  private readonly host: CellHost
  private readonly guardian: ActorCell
  private readonly systemGuardian: ActorCell
  private terminating: Promise<void> | null = null
  private readonly remoting: Remoting | null

  constructor(options: SystemOptions = {}) {
    this.name = options.name ?? 'local'
    this.clock = options.clock ?? realClock
    this.random = options.random ?? Math.random
    this.askTimeoutMs = options.askTimeoutMs ?? 5000
    if (!(this.askTimeoutMs > 0)) throw new TroupeError('INVALID_ARGUMENT', 'askTimeoutMs must be > 0')
    this.dispatcher = new Dispatcher({
      throughput: options.throughput ?? 64,
      turnBudget: options.turnBudget ?? 20_000,
      yieldTurn: options.yieldTurn ?? ((fn) => void setImmediate(fn)),
      scheduleDrain: options.scheduleDrain ?? queueMicrotask,
    })
    this.deadlines = new DeadlineWheel(this.clock)
    this.host = this.makeHost()
    this.guardian = new ActorCell(this.host, null, 'user', Guardian, { supervision: { onFailure: 'resume' } })
    this.systemGuardian = new ActorCell(this.host, null, 'system', Guardian, { supervision: { onFailure: 'resume' } })
    this.remoting = options.transport
      ? new Remoting(this.remotingHost(), options.transport, { scheduleFlush: options.scheduleDrain, firstAskId: firstAskId(this.clock.now()), ...options.remoting })
      : null
    if (this.remoting) this.spawnSystemActor(this.spawnerDef(), { name: SPAWNER_PATH.slice('/system/'.length) })
  }

  /** Starts the transport (when one is configured). */
  async start(): Promise<void> {
    await this.remoting?.start()
  }

  /** A ref to the actor at `path` on `node` (any incarnation). */
  remoteRef<P extends Protocol = AnyProtocol>(node: string, path: string): ActorRef<P> {
    const custom = this.resolveCustomRef(node, path, 0)
    if (custom !== undefined) return custom as ActorRef<P>
    if (node === this.name) return (this.lookup(path) ?? this.missingRef(path)) as ActorRef<P>
    if (!this.remoting) throw new TroupeError('INVALID_ARGUMENT', `system ${this.name} has no transport; cannot reach node ${node}`)
    return this.remoting.refFor(node, path) as ActorRef<P>
  }

  /**
   * Adds a resolver for refs that arrive inside messages (or come from
   * `remoteRef`): it returns a ref for paths it owns, e.g. `/entity/<kind>/<id>`,
   * and undefined for the rest. Returns a function that removes it.
   */
  registerRefResolver(resolve: RefResolverHook): () => void {
    this.refResolvers.push(resolve)
    return () => {
      const i = this.refResolvers.indexOf(resolve)
      if (i >= 0) this.refResolvers.splice(i, 1)
    }
  }
  private readonly refResolvers: RefResolverHook[] = []

  /** @internal */
  resolveCustomRef(node: string, path: string, uid: number): ActorRef | undefined {
    for (const resolve of this.refResolvers) {
      const ref = resolve(node, path, uid)
      if (ref !== undefined) return ref
    }
    return undefined
  }

  /** Gives the transport the address of `node` (cluster membership learns them through gossip). */
  addPeer(node: string, address: string): void {
    this.remoting?.addPeer(node, address)
  }

  /** Tells remoting that `node` is down: its asks fail (also new ones, until `nodeUp`) and watchers of its actors get Terminated. */
  nodeDown(node: string): void {
    this.remoting?.nodeDown(node)
  }

  /** Tells remoting that `node` is up again (a new incarnation): asks and watches reach it again. */
  nodeUp(node: string): void {
    this.remoting?.nodeUp(node)
  }

  /** @internal the codec of this system (refs decode against it). */
  get codec(): Codec {
    return (this.ownCodec ??= this.remoting?.codec ?? new Codec((node, path, uid) => this.resolveCustomRef(node, path, uid) ?? this.remoteRef(node, path)))
  }
  private ownCodec: Codec | null = null

  private missingRef(path: string): ActorRef {
    const host = this.host
    return new ActorRef({
      node: this.name,
      path,
      uid: 0,
      deliver: (type, payload, _sender, reply) => {
        host.deadLetter(path, type, payload, 'not-found')
        reply?.reject(new TroupeError('ACTOR_NOT_FOUND', `no actor at ${this.name}${path}`))
      },
      pendingAsk: (timeoutMs, type, resolve, reject) => host.pendingAsk(timeoutMs, () => `ask '${type}' to ${path}`, resolve, reject),
    })
  }

  private remotingHost(): RemotingHost {
    return {
      name: this.name,
      resolveRef: (node, path, uid) => this.resolveCustomRef(node, path, uid),
      localTarget: (path, uid) => {
        const cell = this.lookupCell(path)
        return cell && (uid === 0 || cell.uid === uid) ? cell : undefined
      },
      pendingAsk: this.host.pendingAsk,
      deadLetter: (recipient, type, payload, reason) => this.deadLetter(recipient, type, payload, reason),
      rejected: (from, reason) => {
        this.events.emit('inboundRejected', { from, reason })
      },
      dropped: (to, reason) => {
        this.events.emit('outboundDropped', { to, reason })
      },
    }
  }

  /** Spawns a top-level actor at `/user/<name>`. */
  spawn<P extends Protocol>(def: ActorDef<P, any>, options?: SpawnOptions): ActorRef<P> {
    if (this.terminating) throw new TroupeError('SYSTEM_STOPPED', `system ${this.name} is terminating`)
    return this.guardian.spawn(def, options) as ActorRef<P>
  }

  /**
   * Spawns an infrastructure actor at `/system/<name>` (cluster daemons,
   * shard regions). It outlives every user actor when the system terminates.
   */
  spawnSystemActor<P extends Protocol>(def: ActorDef<P, any>, options?: SpawnOptions): ActorRef<P> {
    if (this.terminating) throw new TroupeError('SYSTEM_STOPPED', `system ${this.name} is terminating`)
    return this.systemGuardian.spawn(def, options) as ActorRef<P>
  }

  /**
   * Registers a definition under its `kind` so other nodes can spawn it here
   * with `spawnRemote`. Every node that should host the kind registers it.
   */
  registerKind(def: ActorDef<any, any>): void {
    const existing = this.kinds.get(def.kind)
    if (existing !== undefined && existing !== def) throw new TroupeError('NAME_TAKEN', `another definition is registered as kind '${def.kind}'`)
    this.kinds.set(def.kind, def)
  }
  private readonly kinds = new Map<string, ActorDef<any, any>>()

  /**
   * Spawns a registered kind as a top-level actor on `node` and resolves with
   * its ref. Rejects with UNKNOWN_ACTOR_KIND when that node has not registered
   * the kind, NAME_TAKEN, ASK_TIMEOUT or NODE_UNREACHABLE.
   */
  async spawnRemote<P extends Protocol>(node: string, def: ActorDef<P, any>, options: { name?: string; timeoutMs?: number } = {}): Promise<ActorRef<P>> {
    if (node === this.name) {
      if (!this.kinds.has(def.kind)) throw new TroupeError('UNKNOWN_ACTOR_KIND', `kind '${def.kind}' is not registered on ${node}`)
      return this.spawn(def, options.name === undefined ? undefined : { name: options.name })
    }
    const spawner = this.remoteRef<SpawnerProtocol>(node, SPAWNER_PATH)
    const ref = await spawner.ask('spawn', { kind: def.kind, name: options.name ?? null }, { timeoutMs: options.timeoutMs ?? this.askTimeoutMs })
    return ref as ActorRef<P>
  }

  private spawnerDef(): ActorDef<SpawnerProtocol, null> {
    return defineBehavior<SpawnerProtocol, null>({
      name: 'spawner',
      initial: () => null,
      supervision: { onFailure: 'resume' },
      receive: (_state, msg, ctx) => {
        const reply = ctx.deferReply<ActorRef>()
        try {
          const { kind, name } = (msg.payload ?? {}) as { kind?: unknown; name?: unknown }
          if (typeof kind !== 'string') throw new TroupeError('INVALID_ARGUMENT', 'spawn needs a kind')
          if (name !== null && typeof name !== 'string') throw new TroupeError('INVALID_ARGUMENT', 'spawn name must be a string')
          const def = this.kinds.get(kind)
          if (def === undefined) throw new TroupeError('UNKNOWN_ACTOR_KIND', `kind '${kind}' is not registered on ${this.name}`)
          reply.resolve(this.spawn(def, name === null ? undefined : { name }))
        } catch (err) {
          reply.reject(err)
        }
      },
    })
  }

  /** Stops an actor (children first); resolves once it has terminated. */
  stop(ref: ActorRef<any>): Promise<StopReason> {
    const target = ref._target
    if (!(target instanceof ActorCell)) return Promise.reject(new TroupeError('INVALID_ARGUMENT', `${ref} is not a local actor`))
    const done = this.whenTerminated(ref)
    target.requestStop({ kind: 'stopped' })
    return done
  }

  /** Resolves with the stop reason once the actor has terminated (at once if it already has). */
  whenTerminated(ref: ActorRef<any>): Promise<StopReason> {
    return new Promise((resolve) => {
      const watcher: Watcher = { notifyTerminated: (_ref, reason) => resolve(reason) }
      const target = ref._target
      if (target instanceof ActorCell) target.addWatcher(watcher)
      else this._watchRemote(ref, watcher)
    })
  }

  /** Finds a live local actor by path (`/user/a/b`). */
  lookup(path: string): ActorRef | undefined {
    return this.lookupCell(path)?.self
  }

  /** Recently resolved paths (remote traffic resolves the same few paths over and over). */
  private readonly pathCache = new Map<string, ActorCell>()

  private lookupCell(path: string): ActorCell | undefined {
    const cached = this.pathCache.get(path)
    if (cached !== undefined) {
      if (!cached.isTerminated()) return cached
      this.pathCache.delete(path)
    }
    const cell = this.walkPath(path)
    if (cell !== undefined) {
      if (this.pathCache.size >= 10_000) this.pathCache.clear()
      this.pathCache.set(path, cell)
    }
    return cell
  }

  private walkPath(path: string): ActorCell | undefined {
    const parts = path.split('/')
    if (parts[0] !== '') return undefined
    let cell: ActorCell | undefined = parts[1] === 'user' ? this.guardian : parts[1] === 'system' ? this.systemGuardian : undefined
    for (let i = 2; i < parts.length && cell; i++) cell = cell.childCell(parts[i])
    return cell && !cell.isTerminated() ? cell : undefined
  }

  /** Number of messages that could not be delivered since start. */
  get deadLetters(): number {
    return this.deadLetterTotal
  }

  /** True when no actor has a message waiting (used by the simulator). */
  get idle(): boolean {
    return this.dispatcher.idle
  }

  /**
   * Stops everything at once, as a crash would: no stop hooks, no Terminated
   * signals, no further sends or handler runs. For simulations of crashes.
   */
  halt(): void {
    this.dispatcher.halt()
    this.remoting?.halt()
    this.terminating ??= Promise.resolve()
  }

  /** Stops every actor, children before parents. */
  terminate(): Promise<void> {
    if (!this.terminating) {
      // User actors first, then infrastructure, then the transport.
      const done = this.whenTerminated(this.guardian.self)
      this.guardian.requestStop({ kind: 'system-stopped' })
      this.terminating = done
        .then(() => {
          const system = this.whenTerminated(this.systemGuardian.self)
          this.systemGuardian.requestStop({ kind: 'system-stopped' })
          return system
        })
        .then(() => this.remoting?.stop())
    }
    return this.terminating
  }

  /** @internal remote watch; replaced by the remoting layer. */
  _watchRemote(ref: ActorRef<any>, watcher: Watcher): void {
    const target = ref._target
    if (this.remoting && target instanceof RemoteTarget) this.remoting.watch(ref, target, watcher)
    else watcher.notifyTerminated(ref, { kind: 'not-found' })
  }

  /** @internal */
  _unwatchRemote(ref: ActorRef<any>, watcher: Watcher): void {
    const target = ref._target
    if (this.remoting && target instanceof RemoteTarget) this.remoting.unwatch(target, watcher)
  }

  private makeHost(): CellHost {
    const system = this
    const dispatcher = this.dispatcher
    return {
      system,
      nodeName: this.name,
      clock: this.clock,
      random: this.random,
      nextUid: () => ++this.uidCounter,
      schedule: (cell) => dispatcher.schedule(cell),
      deadLetter: (recipient, type, payload, reason) => this.deadLetter(recipient, type, payload, reason),
      pendingAsk: (timeoutMs, describe, resolve, reject) => new PendingAsk(this, this.deadlines, timeoutMs ?? this.askTimeoutMs, describe, resolve, reject),
      emitFailure: (ref, error, action) => {
        this.events.emit('actorFailed', { ref, error, action })
      },
      emitStopped: (ref, reason) => {
        this.events.emit('actorStopped', { ref, reason })
      },
    }
  }

  /** @internal */
  deadLetter(recipient: string, type: string, payload: unknown, reason: string): void {
    this.deadLetterTotal++
    this.events.emit('deadLetter', { recipient, type, payload, reason })
  }
}

/** A local ask waiting for its answer; its deadline lives in the system's wheel. */
class PendingAsk implements ReplyTarget, Expiring {
  private done = false
  wheelSlot = -1
  wheelPos = 0

  constructor(
    private readonly system: ActorSystem,
    private readonly wheel: DeadlineWheel,
    private readonly timeoutMs: number,
    private readonly describe: () => string,
    private readonly onResolve: (v: unknown) => void,
    private readonly onReject: (e: unknown) => void,
  ) {
    wheel.add(this, system.clock.now() + timeoutMs)
  }

  expire(): void {
    if (this.done) return
    this.done = true
    this.onReject(new TroupeError('ASK_TIMEOUT', `${this.describe()} timed out after ${this.timeoutMs} ms`))
  }

  resolve(value: unknown): void {
    if (this.done) return this.system.deadLetter(this.describe(), 'reply', value, 'late-reply')
    this.done = true
    this.wheel.remove(this)
    this.onResolve(value)
  }

  reject(error: unknown): void {
    if (this.done) return
    this.done = true
    this.wheel.remove(this)
    this.onReject(error)
  }
}
