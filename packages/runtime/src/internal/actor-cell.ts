import { ActorRef } from '../actor-ref.js'
import type { RefTarget, Watcher } from '../actor-ref.js'
import type { ActorContext, DeferredReply } from '../context.js'
import type { ActorDef, SpawnOptions } from '../define.js'
import { TroupeError, isTroupeError } from '../errors.js'
import { resolveMailbox } from '../mailbox.js'
import type { ResolvedMailbox } from '../mailbox.js'
import type { Signal, StopReason } from '../signals.js'
import { backoffDelayMs, defaultSupervision, validateSupervision } from '../supervision.js'
import type { SupervisionStrategy } from '../supervision.js'
import { ActorTimers, TimerEntry } from '../timers.js'
import type { ActorSystem } from '../system.js'
import { Envelope } from './envelope.js'
import type { ReplyTarget } from './envelope.js'
import { RingQueue } from './queue.js'
import type { Asks } from './asks.js'

// Lifecycle states, in order: a cell only moves forward, except Suspended ⇄ Running on restart.
const STARTING = 0
const RUNNING = 1
const SUSPENDED = 2
const STOPPING = 3
const TERMINATED = 4

/** System messages: processed before user messages, never subject to capacity. */
type SysMsg =
  | { kind: 'stop' }
  | { kind: 'restart-due' }
  | { kind: 'escalated'; error: unknown }

/** Internal view of the system the cells need. */
export interface CellHost {
  readonly system: ActorSystem
  readonly nodeName: string
  readonly clock: import('../clock.js').Clock
  readonly random: () => number
  nextUid(): number
  schedule(cell: ActorCell): void
  deadLetter(recipient: string, type: string, payload: unknown, reason: string): void
  readonly asks: Asks
  emitFailure(ref: ActorRef, error: unknown, action: string): void
  emitStopped(ref: ActorRef, reason: StopReason): void
}

const NOOP_REPLY: DeferredReply<never> = { expected: false, resolve() {}, reject() {} }

/**
 * The runtime side of one actor: mailbox, state, lifecycle, supervision and
 * its context. Handlers run one message at a time; an async handler finishes
 * before the next message starts.
 */
export class ActorCell implements RefTarget, ActorContext<any>, Watcher {
  readonly uid: number
  private status = STARTING
  state: unknown = undefined
  private mailbox: RingQueue<Envelope> | null = null
  private current: Envelope | null = null
  private replyTaken = false
  /** On the dispatcher's run queue. */
  scheduled = false
  /** An async handler or hook is in flight: no other message may start. */
  private busy = false
  private refCache: ActorRef | null = null
  /** Rarely used parts, allocated on first use: an idle actor stays small. */
  private x: CellExtras | null = null
  private readonly props: CellProps

  constructor(
    private readonly host: CellHost,
    readonly parent: ActorCell | null,
    readonly name: string,
    readonly def: ActorDef<any, any>,
    options: SpawnOptions | undefined,
  ) {
    this.uid = host.nextUid()
    this.props = cellProps(def, options)
    // The first turn runs initial() and onStart (status STARTING marks it due).
    host.schedule(this)
  }

  private get mailboxConfig(): ResolvedMailbox {
    return this.props.mailbox
  }
  private get supervision(): SupervisionStrategy {
    return this.props.supervision
  }
  private ext(): CellExtras {
    return (this.x ??= new CellExtras())
  }
  private get sysQueue(): RingQueue<SysMsg> | null {
    return this.x?.sysQueue ?? null
  }
  private set sysQueue(v: RingQueue<SysMsg> | null) {
    if (v !== null || this.x !== null) this.ext().sysQueue = v
  }
  private get childMap(): Map<string, ActorCell> | null {
    return this.x?.childMap ?? null
  }
  private set childMap(v: Map<string, ActorCell> | null) {
    if (v !== null || this.x !== null) this.ext().childMap = v
  }
  private get watchers(): Set<Watcher> | null {
    return this.x?.watchers ?? null
  }
  private set watchers(v: Set<Watcher> | null) {
    if (v !== null || this.x !== null) this.ext().watchers = v
  }
  private get watching(): Set<ActorCell> | null {
    return this.x?.watching ?? null
  }
  private set watching(v: Set<ActorCell> | null) {
    if (v !== null || this.x !== null) this.ext().watching = v
  }
  private get timerSet(): ActorTimers | null {
    return this.x?.timerSet ?? null
  }
  private set timerSet(v: ActorTimers | null) {
    if (v !== null || this.x !== null) this.ext().timerSet = v
  }
  private get stashed(): Envelope[] | null {
    return this.x?.stashed ?? null
  }
  private set stashed(v: Envelope[] | null) {
    if (v !== null || this.x !== null) this.ext().stashed = v
  }
  private get restartTimes(): number[] | null {
    return this.x?.restartTimes ?? null
  }
  private set restartTimes(v: number[] | null) {
    if (v !== null || this.x !== null) this.ext().restartTimes = v
  }
  private get stopReason(): StopReason | null {
    return this.x?.stopReason ?? null
  }
  private set stopReason(v: StopReason | null) {
    if (v !== null || this.x !== null) this.ext().stopReason = v
  }
  private get onChildrenGone(): (() => void) | null {
    return this.x?.onChildrenGone ?? null
  }
  private set onChildrenGone(v: (() => void) | null) {
    if (v !== null || this.x !== null) this.ext().onChildrenGone = v
  }

  // ---- RefTarget -------------------------------------------------------

  get path(): string {
    return this.parent === null ? `/${this.name}` : `${this.parent.path}/${this.name}`
  }

  get node(): string {
    return this.host.nodeName
  }

  deliver(type: string, payload: unknown, sender: ActorRef | null, reply: ReplyTarget | null): void {
    if (this.status >= STOPPING) {
      this.reject(reply, 'ACTOR_STOPPED', `actor ${this.path} is stopped`)
      this.host.deadLetter(this.path, type, payload, 'stopped')
      return
    }
    const mailbox = (this.mailbox ??= new RingQueue<Envelope>(4))
    if (mailbox.length >= this.mailboxConfig.capacity) {
      this.host.deadLetter(this.path, type, payload, 'mailbox-full')
      const error = new TroupeError('MAILBOX_FULL', `mailbox of ${this.path} is full (${this.mailboxConfig.capacity})`)
      if (reply !== null) return reply.reject(error)
      if (this.mailboxConfig.overflow === 'reject') throw error
      return
    }
    mailbox.push(new Envelope(type, payload, sender, reply, null))
    if (!this.scheduled && !this.busy) this.host.schedule(this)
  }

  get address(): string {
    return this.path
  }

  ask(type: string, payload: unknown, sender: ActorRef | null, timeoutMs: number | undefined, resolve: (v: unknown) => void, reject: (e: unknown) => void): void {
    this.deliver(type, payload, sender, this.host.asks.start(this, type, timeoutMs, resolve, reject))
  }

  // ---- ActorContext ----------------------------------------------------

  get self(): ActorRef {
    return (this.refCache ??= new ActorRef(this))
  }

  get sender(): ActorRef | null {
    return this.current?.sender ?? null
  }

  get system(): ActorSystem {
    return this.host.system
  }

  get timers(): ActorTimers {
    return (this.timerSet ??= new ActorTimers(this.host.clock, this))
  }

  spawn(def: ActorDef<any, any>, options?: SpawnOptions): ActorRef<any> {
    if (this.status >= STOPPING) throw new TroupeError('ACTOR_STOPPED', `cannot spawn under stopping actor ${this.path}`)
    const given = options?.name
    if (given !== undefined) validateName(given)
    const name = given ?? `$${this.host.nextUid().toString(36)}`
    const children = (this.childMap ??= new Map())
    if (children.has(name)) throw new TroupeError('NAME_TAKEN', `${this.path}/${name} already exists`)
    const child = new ActorCell(this.host, this, name, def, options)
    children.set(name, child)
    return child.self
  }

  stop(ref?: ActorRef<any>): void {
    if (ref === undefined) return this.requestStop({ kind: 'stopped' })
    const target = ref._target
    if (target instanceof ActorCell && target.parent === this) target.requestStop({ kind: 'stopped' })
    else if (target === this) this.requestStop({ kind: 'stopped' })
    else throw new TroupeError('INVALID_ARGUMENT', `${ref.path} is not a child of ${this.path}; stop it through its parent or system.stop`)
  }

  watch(ref: ActorRef<any>): void {
    const target = ref._target
    if (target === this) return
    if (target instanceof ActorCell) {
      if (target.isTerminated()) {
        this.notifyTerminated(ref, target.stopReason ?? { kind: 'not-found' })
        return
      }
      ;(target.watchers ??= new Set()).add(this)
      ;(this.watching ??= new Set()).add(target)
      return
    }
    target.addWatcher(this, ref)
  }

  unwatch(ref: ActorRef<any>): void {
    const target = ref._target
    if (target instanceof ActorCell) {
      target.watchers?.delete(this)
      this.watching?.delete(target)
    } else {
      target.removeWatcher(this, ref)
    }
  }

  tell(ref: ActorRef<any>, type: string, payload: unknown): void {
    ref._target.deliver(type, payload, this.self, null)
  }

  stash(): void {
    const env = this.current
    if (env === null) throw new TroupeError('INVALID_ARGUMENT', 'stash() is only valid while handling a message')
    const stash = (this.stashed ??= [])
    const capacity = this.def.stashCapacity ?? 1000
    if (stash.length >= capacity) throw new TroupeError('STASH_FULL', `stash of ${this.path} is full (${capacity})`)
    stash.push(env)
    this.replyTaken = true
  }

  unstashAll(): void {
    const stash = this.stashed
    if (!stash || stash.length === 0) return
    this.stashed = null
    const mailbox = (this.mailbox ??= new RingQueue<Envelope>(4))
    for (let i = stash.length - 1; i >= 0; i--) mailbox.unshift(stash[i])
    if (!this.scheduled && !this.busy) this.host.schedule(this)
  }

  get stashSize(): number {
    return this.stashed?.length ?? 0
  }

  deferReply<T>(): DeferredReply<T> {
    const env = this.current
    if (env === null) throw new TroupeError('INVALID_ARGUMENT', 'deferReply() is only valid while handling a message')
    if (env.reply === null || this.replyTaken) return NOOP_REPLY
    this.replyTaken = true
    const target = env.reply
    let done = false
    return {
      expected: true,
      resolve(value) {
        if (!done) (done = true), target.resolve(value)
      },
      reject(error) {
        if (!done) (done = true), target.reject(error)
      },
    }
  }

  child(name: string): ActorRef | undefined {
    return this.childMap?.get(name)?.self
  }

  children(): ActorRef[] {
    return this.childMap ? [...this.childMap.values()].map((c) => c.self) : []
  }

  /** Registers a watcher that is told when this actor terminates (at once if it already has). */
  addWatcher(watcher: Watcher): void {
    if (this.status === TERMINATED) return watcher.notifyTerminated(this.self, this.stopReason ?? { kind: 'stopped' })
    ;(this.watchers ??= new Set()).add(watcher)
  }

  removeWatcher(watcher: Watcher): void {
    this.watchers?.delete(watcher)
  }

  childCell(name: string): ActorCell | undefined {
    return this.childMap?.get(name)
  }

  // ---- Watcher / timers -------------------------------------------------

  notifyTerminated(ref: ActorRef, reason: StopReason): void {
    this.pushSignal({ type: 'terminated', ref, reason })
  }

  deliverTimer(entry: TimerEntry): void {
    if (this.status >= STOPPING) return
    const mailbox = (this.mailbox ??= new RingQueue<Envelope>(4))
    if (mailbox.length >= this.mailboxConfig.capacity) {
      this.host.deadLetter(this.path, entry.type, entry.payload, 'mailbox-full')
      return
    }
    mailbox.push(new Envelope(entry.type, entry.payload, null, null, entry))
    if (!this.scheduled && !this.busy) this.host.schedule(this)
  }

  // ---- Processing -------------------------------------------------------

  isTerminated(): boolean {
    return this.status === TERMINATED
  }

  hasWork(): boolean {
    if (this.busy || this.status === TERMINATED) return false
    if (this.status === STARTING) return true
    if (this.sysQueue !== null && this.sysQueue.length > 0) return true
    return this.status === RUNNING && this.mailbox !== null && this.mailbox.length > 0
  }

  /** Handles up to `budget` messages; stops early when a handler goes async. Returns how many ran. */
  processBatch(budget: number): number {
    let n = 0
    while (n < budget && !this.busy) {
      if (this.status === STARTING) {
        n++
        this.start()
        continue
      }
      const sys = this.sysQueue
      if (sys !== null && sys.length > 0) {
        n++
        this.handleSys(sys.shift()!)
        continue
      }
      if (this.status !== RUNNING) break
      const mailbox = this.mailbox
      if (mailbox === null || mailbox.length === 0) break
      n++
      this.invoke(mailbox.shift()!)
    }
    return n
  }

  private invoke(env: Envelope): void {
    if (env.sys !== null) {
      if (env.sys instanceof TimerEntry) {
        if (!this.timerSet?.isCurrent(env.sys)) return
      } else {
        return this.invokeSignal(env.sys as Signal)
      }
    }
    this.current = env
    this.replyTaken = false
    let result: unknown
    try {
      result = this.def.receive(this.state, env, this)
    } catch (err) {
      this.current = null
      return this.handlerFailed(env, err)
    }
    if (isPromiseLike(result)) {
      this.busy = true
      result.then(
        (value) => this.afterAsync(env, value, null, false),
        (err) => this.afterAsync(env, undefined, err, true),
      )
      return
    }
    this.current = null
    if (env.reply !== null && !this.replyTaken) env.reply.resolve(result)
  }

  private afterAsync(env: Envelope, value: unknown, error: unknown, failed: boolean): void {
    this.busy = false
    this.current = null
    if (failed) this.handlerFailed(env, error)
    else if (env.reply !== null && !this.replyTaken) env.reply.resolve(value)
    this.wake()
  }

  private invokeSignal(signal: Signal): void {
    const hook = this.def.onSignal
    if (!hook) return
    this.runHook(() => hook(this.state, signal, this), (err) => this.fail(err))
  }

  private handlerFailed(env: Envelope, err: unknown): void {
    if (isTroupeError(err, 'UNKNOWN_MESSAGE')) {
      // A message this actor does not understand is the sender's mistake, not a failure of the actor.
      this.host.deadLetter(this.path, env.type, env.payload, 'unknown-message')
      if (env.reply !== null && !this.replyTaken) env.reply.reject(err)
      return
    }
    if (env.reply !== null && !this.replyTaken) {
      const message = err instanceof Error ? err.message : String(err)
      env.reply.reject(new TroupeError('HANDLER_FAILED', `handler '${env.type}' of ${this.path} failed: ${message}`, { cause: err }))
    }
    this.fail(err)
  }

  /** Applies the supervision strategy to a failure of this actor. */
  private fail(error: unknown): void {
    if (this.status >= STOPPING) return
    const strategy = this.supervision
    this.host.emitFailure(this.self, error, strategy.onFailure)
    switch (strategy.onFailure) {
      case 'resume':
        return
      case 'stop':
        return this.requestStop({ kind: 'failed', error })
      case 'escalate':
        this.requestStop({ kind: 'failed', error })
        if (this.parent !== null && this.parent.parent !== null) this.parent.pushSys({ kind: 'escalated', error })
        return
      case 'restart':
        return this.restart(error, strategy.maxRestarts ?? 10, strategy.withinMs ?? 60_000)
    }
  }

  private restart(error: unknown, maxRestarts: number, withinMs: number): void {
    const now = this.host.clock.now()
    const times = (this.restartTimes ??= []).filter((t) => t > now - withinMs)
    this.restartTimes = times
    if (times.length >= maxRestarts) return this.requestStop({ kind: 'failed', error })
    times.push(now)
    this.status = SUSPENDED
    this.timerSet?.cancelAll()
    this.dropStash('restart')
    const delayMs = this.supervision.onFailure === 'restart' ? backoffDelayMs(this.supervision.backoff, times.length - 1, this.host.random) : 0
    const onStop = this.def.onStop
    const afterStop = () => {
      let pending = 2 // the backoff delay and the children's termination
      const step = () => {
        if (--pending === 0) this.pushSys({ kind: 'restart-due' })
      }
      if (delayMs > 0) this.host.clock.setTimer(delayMs, step)
      else step()
      this.stopChildren(step)
    }
    if (onStop) this.runHook(() => onStop(this.state, this), () => {}, afterStop)
    else afterStop()
  }

  private handleSys(msg: SysMsg): void {
    switch (msg.kind) {
      case 'restart-due':
        if (this.status === SUSPENDED) this.start()
        return
      case 'stop':
        return this.beginStop()
      case 'escalated':
        return this.fail(msg.error)
    }
  }

  private start(): void {
    try {
      this.state = this.def.initial(this)
    } catch (err) {
      this.status = RUNNING
      return this.fail(err)
    }
    const onStart = this.def.onStart
    if (!onStart) {
      this.status = RUNNING
      return
    }
    let failed = false
    this.runHook(
      () => onStart(this.state, this),
      (err) => {
        failed = true
        this.status = RUNNING
        this.fail(err)
      },
      () => {
        if (!failed && (this.status === STARTING || this.status === SUSPENDED)) this.status = RUNNING
      },
    )
  }

  /** Runs a hook that may be async; the actor handles nothing else until it settles. */
  private runHook(hook: () => unknown, onError: (err: unknown) => void, onDone?: () => void): void {
    let result: unknown
    try {
      result = hook()
    } catch (err) {
      onError(err)
      onDone?.()
      return
    }
    if (!isPromiseLike(result)) return onDone?.()
    this.busy = true
    result.then(
      () => {
        this.busy = false
        onDone?.()
        this.wake()
      },
      (err) => {
        this.busy = false
        onError(err)
        onDone?.()
        this.wake()
      },
    )
  }

  // ---- Stopping ---------------------------------------------------------

  /** Stops after the current message: children first, then onStop, then watchers are told. */
  requestStop(reason: StopReason): void {
    if (this.status >= STOPPING) return
    this.status = STOPPING
    this.stopReason = reason
    this.pushSys({ kind: 'stop' })
  }

  private beginStop(): void {
    this.timerSet?.cancelAll()
    this.stopChildren(() => {
      const onStop = this.def.onStop
      if (!onStop) return this.terminate()
      this.runHook(
        () => onStop(this.state, this),
        (err) => this.host.emitFailure(this.self, err, 'stop'),
        () => this.terminate(),
      )
    })
  }

  private stopChildren(then: () => void): void {
    const children = this.childMap
    if (children === null || children.size === 0) return then()
    this.onChildrenGone = then
    for (const child of children.values()) child.requestStop({ kind: 'stopped' })
  }

  private childTerminated(child: ActorCell, reason: StopReason): void {
    const children = this.childMap
    if (children?.get(child.name) !== child) return
    children.delete(child.name)
    if (reason.kind === 'failed' && this.status < STOPPING) {
      this.watching?.delete(child)
      this.pushSignal({ type: 'child-failed', ref: child.self, error: reason.error })
    }
    if (children.size === 0 && this.onChildrenGone !== null) {
      const then = this.onChildrenGone
      this.onChildrenGone = null
      then()
    }
  }

  private terminate(): void {
    if (this.status === TERMINATED) return
    this.status = TERMINATED
    const reason = this.stopReason ?? { kind: 'stopped' }
    const mailbox = this.mailbox
    if (mailbox !== null) {
      for (let env = mailbox.shift(); env !== undefined; env = mailbox.shift()) this.discard(env, 'stopped')
    }
    this.dropStash('stopped')
    this.sysQueue = null
    for (const target of this.watching ?? []) target.watchers?.delete(this)
    this.watching = null
    this.parent?.childTerminated(this, reason)
    const ref = this.self
    const watchers = this.watchers
    this.watchers = null
    if (watchers) {
      for (const w of watchers) {
        // The parent hears of a failure through child-failed instead.
        if (w === this.parent && reason.kind === 'failed') continue
        w.notifyTerminated(ref, reason)
      }
    }
    this.host.emitStopped(ref, reason)
  }

  private discard(env: Envelope, reason: string): void {
    if (env.sys !== null && !(env.sys instanceof TimerEntry)) return
    this.reject(env.reply, 'ACTOR_STOPPED', `actor ${this.path} stopped before handling '${env.type}'`)
    this.host.deadLetter(this.path, env.type, env.payload, reason)
  }

  private dropStash(reason: string): void {
    const stash = this.stashed
    this.stashed = null
    if (stash) for (const env of stash) this.discard(env, reason)
  }

  // ---- Helpers ----------------------------------------------------------

  private pushSys(msg: SysMsg): void {
    ;(this.sysQueue ??= new RingQueue<SysMsg>(4)).push(msg)
    this.wake()
  }

  private pushSignal(signal: Signal): void {
    if (this.status >= STOPPING) return
    ;(this.mailbox ??= new RingQueue<Envelope>(4)).push(new Envelope(signal.type, undefined, null, null, signal))
    this.wake()
  }

  private wake(): void {
    if (!this.scheduled && !this.busy && this.hasWork()) this.host.schedule(this)
  }

  private reject(reply: ReplyTarget | null, code: 'ACTOR_STOPPED', message: string): void {
    if (reply !== null) reply.reject(new TroupeError(code, message))
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function'
}

function validateName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 256 || /[/#\s]/.test(name)) {
    throw new TroupeError('INVALID_ARGUMENT', `invalid actor name ${JSON.stringify(name)}: 1-256 characters, no '/', '#' or spaces`)
  }
}

class CellExtras {
  sysQueue: RingQueue<SysMsg> | null = null
  childMap: Map<string, ActorCell> | null = null
  watchers: Set<Watcher> | null = null
  watching: Set<ActorCell> | null = null
  timerSet: ActorTimers | null = null
  stashed: Envelope[] | null = null
  restartTimes: number[] | null = null
  stopReason: StopReason | null = null
  onChildrenGone: (() => void) | null = null
}

/** Settings shared by every actor spawned from one definition without overrides. */
interface CellProps {
  mailbox: ResolvedMailbox
  supervision: SupervisionStrategy
}

const defaultProps = new WeakMap<ActorDef<any, any>, CellProps>()

function cellProps(def: ActorDef<any, any>, options: SpawnOptions | undefined): CellProps {
  const shared = options?.mailbox === undefined && options?.supervision === undefined
  if (shared) {
    const cached = defaultProps.get(def)
    if (cached) return cached
  }
  const supervision = options?.supervision ?? def.supervision ?? defaultSupervision
  validateSupervision(supervision)
  const props = { mailbox: resolveMailbox(options?.mailbox ?? def.mailbox), supervision }
  if (shared) defaultProps.set(def, props)
  return props
}
