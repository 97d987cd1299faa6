import { EventEmitter } from 'eventemitter3'
import type { ActorRef, Watcher } from './actor-ref.js'
import type { Clock } from './clock.js'
import { realClock } from './clock.js'
import type { ActorDef, SpawnOptions } from './define.js'
import { defineBehavior } from './define.js'
import { TroupeError } from './errors.js'
import { ActorCell } from './internal/actor-cell.js'
import type { CellHost } from './internal/actor-cell.js'
import { Asks } from './internal/asks.js'
import { Dispatcher } from './internal/dispatcher.js'
import { PathLookup } from './internal/path-lookup.js'
import { RefResolver } from './internal/ref-resolver.js'
import type { RefResolverHook } from './internal/ref-resolver.js'
import { SPAWNER_NAME, SPAWNER_PATH, spawnerDef } from './internal/spawner.js'
import type { SpawnerProtocol } from './internal/spawner.js'
import type { AnyProtocol, Protocol } from './protocol.js'
import { Codec } from './remote/codec.js'
import { Remoting } from './remote/remoting.js'
import type { RemotingHost, RemotingOptions } from './remote/remoting.js'
import type { Transport } from './transport.js'
import type { StopReason } from './signals.js'

export type { RefResolverHook }

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

export interface TerminateOptions {
  /**
   * How long terminate waits for actors to stop on their own (their current
   * handler and async stop hooks), in ms of the system clock; default 10,000.
   * After it, every actor still running is stopped by force.
   */
  timeoutMs?: number
}

export interface TerminateResult {
  /**
   * Paths of the actors that were still running when `timeoutMs` passed and
   * were stopped by force (empty when everything stopped in time).
   */
  forced: string[]
}

/** Default of `TerminateOptions.timeoutMs`. */
export const TERMINATE_TIMEOUT_MS = 10_000

const Guardian = defineBehavior<Protocol>({ name: 'guardian', receive() {} })

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
  /** @internal every pending ask of this system: ids and deadlines. */
  readonly asks: Asks
  private deadLetterTotal = 0
  private uidCounter = 0
  private readonly dispatcher: Dispatcher
  private readonly host: CellHost
  private readonly guardian: ActorCell
  private readonly systemGuardian: ActorCell
  private readonly paths: PathLookup
  private readonly resolver: RefResolver
  private terminating: Promise<TerminateResult> | null = null
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
    const remotingOptions = options.transport ? { scheduleFlush: options.scheduleDrain, yieldTurn: options.yieldTurn, firstAskId: firstAskId(this.clock.now()), ...options.remoting } : null
    this.asks = new Asks(this.clock, this.askTimeoutMs, (recipient, value) => this.deadLetter(recipient, 'reply', value, 'late-reply'), remotingOptions?.firstAskId ?? 1)
    this.host = this.makeHost()
    this.guardian = new ActorCell(this.host, null, 'user', Guardian, { supervision: { onFailure: 'resume' } })
    this.systemGuardian = new ActorCell(this.host, null, 'system', Guardian, { supervision: { onFailure: 'resume' } })
    this.paths = new PathLookup(this.guardian, this.systemGuardian)
    this.resolver = this.makeResolver()
    this.remoting = options.transport ? new Remoting(this.remotingHost(), options.transport, remotingOptions!) : null
    if (this.remoting) this.spawnSystemActor(spawnerDef(this.name, this.kinds, (def, name) => this.spawn(def, name === undefined ? undefined : { name })), { name: SPAWNER_NAME })
  }

  /** Starts the transport (when one is configured). */
  async start(): Promise<void> {
    await this.remoting?.start()
  }

  /** A ref to the actor at `path` on `node` (any incarnation). */
  remoteRef<P extends Protocol = AnyProtocol>(node: string, path: string): ActorRef<P> {
    return this.resolver.resolve(node, path, 0) as ActorRef<P>
  }

  /**
   * Adds a resolver for refs that arrive inside messages (or come from
   * `remoteRef`): it returns a ref for paths it owns, e.g. `/entity/<kind>/<id>`,
   * and undefined for the rest. Returns a function that removes it.
   */
  registerRefResolver(resolve: RefResolverHook): () => void {
    return this.resolver.add(resolve)
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
    return (this.ownCodec ??= this.remoting?.codec ?? new Codec((node, path, uid) => this.resolver.resolve(node, path, uid)))
  }
  private ownCodec: Codec | null = null

  private makeResolver(): RefResolver {
    return new RefResolver({
      name: this.name,
      asks: this.asks,
      deadLetter: (recipient, type, payload, reason) => this.deadLetter(recipient, type, payload, reason),
      localRef: (path, uid) => this.localCell(path, uid)?.self,
      remoteTarget: (node, path, uid) => this.remoting?.target(node, path, uid) ?? null,
    })
  }

  private remotingHost(): RemotingHost {
    return {
      name: this.name,
      asks: this.asks,
      resolveRef: (node, path, uid) => this.resolver.resolve(node, path, uid),
      localTarget: (path, uid) => this.localCell(path, uid),
      deadLetter: (recipient, type, payload, reason) => this.deadLetter(recipient, type, payload, reason),
      rejected: (from, reason) => {
        this.events.emit('inboundRejected', { from, reason })
      },
      dropped: (to, reason) => {
        this.events.emit('outboundDropped', { to, reason })
      },
    }
  }

  /** A live local actor at `path` with the given uid (0: any incarnation). */
  private localCell(path: string, uid: number): ActorCell | undefined {
    const cell = this.paths.find(path)
    return cell && (uid === 0 || cell.uid === uid) ? cell : undefined
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
      ref._target.addWatcher(watcher, ref)
    })
  }

  /** Finds a live local actor by path (`/user/a/b`). */
  lookup(path: string): ActorRef | undefined {
    return this.paths.find(path)?.self
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
    this.terminating ??= Promise.resolve({ forced: [] })
  }

  /**
   * Stops every actor, children before parents: user actors first, then
   * infrastructure (/system), then the transport. Each actor finishes its
   * current message and runs its onStop. It never hangs: actors still
   * running after `timeoutMs` (default 10 s) are stopped by force: a handler
   * that has not finished is abandoned (its asker gets ACTOR_STOPPED, its
   * result is ignored), onStop still runs (an async one is not waited for),
   * children stop first. Resolves with the paths of the actors it forced.
   * A second call returns the first call's promise.
   */
  terminate(options: TerminateOptions = {}): Promise<TerminateResult> {
    if (!this.terminating) {
      const timeoutMs = options.timeoutMs ?? TERMINATE_TIMEOUT_MS
      if (!(Number.isFinite(timeoutMs) && timeoutMs >= 0)) throw new TroupeError('INVALID_ARGUMENT', `timeoutMs must be a finite number of milliseconds >= 0, got ${timeoutMs}`)
      const forced: string[] = []
      const timer = this.clock.setTimer(timeoutMs, () => {
        this.guardian.forceStop(forced)
        this.systemGuardian.forceStop(forced)
      })
      const done = this.whenTerminated(this.guardian.self)
      this.guardian.requestStop({ kind: 'system-stopped' })
      this.terminating = done
        .then(() => {
          const system = this.whenTerminated(this.systemGuardian.self)
          this.systemGuardian.requestStop({ kind: 'system-stopped' })
          return system
        })
        .then(() => {
          this.clock.clearTimer(timer)
          return this.remoting?.stop()
        })
        .then(() => ({ forced }))
    }
    return this.terminating
  }

  private makeHost(): CellHost {
    const dispatcher = this.dispatcher
    return {
      system: this,
      nodeName: this.name,
      clock: this.clock,
      random: this.random,
      asks: this.asks,
      nextUid: () => ++this.uidCounter,
      schedule: (cell) => dispatcher.schedule(cell),
      deadLetter: (recipient, type, payload, reason) => this.deadLetter(recipient, type, payload, reason),
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
