import { ActorRef } from '../actor-ref.js'
import type { RefTarget, Watcher } from '../actor-ref.js'
import type { Clock } from '../clock.js'
import type { ActorDef, SpawnOptions } from '../define.js'
import { TroupeError } from '../errors.js'
import type { StopReason } from '../signals.js'
import type { SupervisionStrategy } from '../supervision.js'
import type { ActorSystem } from '../system.js'
import { ActorTimers, TimerEntry } from '../timers.js'
import type { Asks } from './asks.js'
import { CellContext } from './cell-context.js'
import { CellMailbox, RUNNING, STARTING, STOPPING, SUSPENDED, TERMINATED } from './cell-mailbox.js'
import type { SysMsg } from './cell-mailbox.js'
import { cellProps } from './cell-props.js'
import { Children, validateName } from './children.js'
import { DeathWatch } from './death-watch.js'
import type { Envelope } from './envelope.js'
import { RingQueue } from './queue.js'
import { Stash } from './stash.js'
import { RestartWindow, superviseFailure } from './supervisor.js'
import type { Supervised } from './supervisor.js'

/** Internal view of the system the cells need. */
export interface CellHost {
  readonly system: ActorSystem
  readonly nodeName: string
  readonly clock: Clock
  readonly random: () => number
  readonly asks: Asks
  nextUid(): number
  schedule(cell: CellMailbox): void
  deadLetter(recipient: string, type: string, payload: unknown, reason: string): void
  emitFailure(ref: ActorRef, error: unknown, action: string): void
  emitStopped(ref: ActorRef, reason: StopReason): void
}

/**
 * The runtime side of one actor: an address other actors send to, its
 * lifecycle (start, restart, stop: children first, then onStop, then its
 * watchers are told) and the parts it owns. The mailbox and the turn are
 * `CellMailbox`'s; supervision, children, stash and death watch are parts of
 * their own; handlers get a `CellContext`, not the cell.
 */
export class ActorCell extends CellMailbox implements RefTarget, Watcher, Supervised {
  state: unknown = undefined
  private refCache: ActorRef | null = null
  private ctx: CellContext | null = null
  /** Rarely used parts, made on first use: an idle actor stays small. */
  private x: CellParts | null = null

  constructor(
    host: CellHost,
    readonly parent: ActorCell | null,
    readonly name: string,
    readonly def: ActorDef<any, any>,
    options: SpawnOptions | undefined,
  ) {
    super(host, host.nextUid(), cellProps(def, options))
    // The first turn runs initial() and onStart (status STARTING marks it due).
    host.schedule(this)
  }

  private parts(): CellParts {
    return (this.x ??= new CellParts())
  }

  protected get context(): CellContext {
    return (this.ctx ??= new CellContext(this))
  }

  get path(): string {
    return this.parent === null ? `/${this.name}` : `${this.parent.path}/${this.name}`
  }

  get node(): string {
    return this.host.nodeName
  }

  get address(): string {
    return this.path
  }

  get self(): ActorRef {
    return (this.refCache ??= new ActorRef(this))
  }

  get system(): ActorSystem {
    return this.host.system
  }

  ask(type: string, payload: unknown, sender: ActorRef | null, timeoutMs: number | undefined, resolve: (v: unknown) => void, reject: (e: unknown) => void): void {
    this.deliver(type, payload, sender, this.host.asks.start(this, type, timeoutMs, resolve, reject))
  }

  /** Registers a watcher that is told when this actor terminates (at once if it already has). */
  addWatcher(watcher: Watcher): void {
    if (this.status === TERMINATED) return watcher.notifyTerminated(this.self, this.x?.stopReason ?? { kind: 'stopped' })
    this.deathWatch().add(watcher)
  }

  removeWatcher(watcher: Watcher): void {
    this.x?.deathWatch?.remove(watcher)
  }

  notifyTerminated(ref: ActorRef, reason: StopReason): void {
    this.pushSignal({ type: 'terminated', ref, reason })
  }

  isTerminated(): boolean {
    return this.status === TERMINATED
  }

  // ---- Parts the context uses -------------------------------------------

  timers(): ActorTimers {
    const parts = this.parts()
    return (parts.timers ??= new ActorTimers(this.host.clock, this))
  }

  protected timerIsCurrent(entry: TimerEntry): boolean {
    return this.x?.timers?.isCurrent(entry) ?? false
  }

  spawn(def: ActorDef<any, any>, options?: SpawnOptions): ActorRef<any> {
    if (this.status >= STOPPING) throw new TroupeError('ACTOR_STOPPED', `cannot spawn under stopping actor ${this.path}`)
    const given = options?.name
    if (given !== undefined) validateName(given)
    const name = given ?? `$${this.host.nextUid().toString(36)}`
    const children = (this.parts().children ??= new Children<ActorCell>())
    children.checkFree(name, this.path)
    const child = new ActorCell(this.host, this, name, def, options)
    children.add(child)
    return child.self
  }

  /** Stops this actor (no ref) or one of its children. */
  stop(ref: ActorRef<any> | undefined): void {
    if (ref === undefined) return this.requestStop({ kind: 'stopped' })
    const target = ref._target
    if (target instanceof ActorCell && target.parent === this) target.requestStop({ kind: 'stopped' })
    else if (target === this) this.requestStop({ kind: 'stopped' })
    else throw new TroupeError('INVALID_ARGUMENT', `${ref.path} is not a child of ${this.path}; stop it through its parent or system.stop`)
  }

  /** Watches a local actor here, any other through its ref's target (remote, entity, missing). */
  watch(ref: ActorRef<any>): void {
    const target = ref._target
    if (target === this) return
    if (!(target instanceof ActorCell)) return target.addWatcher(this, ref)
    if (target.isTerminated()) return this.notifyTerminated(ref, target.x?.stopReason ?? { kind: 'not-found' })
    this.deathWatch().watchLocal(this, target.deathWatch(), target)
  }

  unwatch(ref: ActorRef<any>): void {
    const target = ref._target
    if (!(target instanceof ActorCell)) return target.removeWatcher(this, ref)
    target.x?.deathWatch?.remove(this)
    this.x?.deathWatch?.forget(target)
  }

  stash(): Stash {
    const parts = this.parts()
    return (parts.stash ??= new Stash())
  }

  childCell(name: string): ActorCell | undefined {
    return this.x?.children?.get(name)
  }

  childRefs(): ActorRef[] {
    return this.x?.children?.refs() ?? []
  }

  // ---- Supervised -------------------------------------------------------

  get strategy(): SupervisionStrategy {
    return this.props.supervision
  }

  get clock(): Clock {
    return this.host.clock
  }

  get random(): () => number {
    return this.host.random
  }

  isStopping(): boolean {
    return this.status >= STOPPING
  }

  emitFailure(error: unknown, action: string): void {
    this.host.emitFailure(this.self, error, action)
  }

  escalate(error: unknown): void {
    if (this.parent !== null && this.parent.parent !== null) this.parent.pushSys({ kind: 'escalated', error })
  }

  restartWindow(): RestartWindow {
    const parts = this.parts()
    return (parts.restarts ??= new RestartWindow())
  }

  suspend(): void {
    this.status = SUSPENDED
    this.x?.timers?.cancelAll()
    this.dropStash('restart')
  }

  afterStopHook(then: () => void): void {
    const onStop = this.def.onStop
    if (onStop) this.runHook(() => onStop(this.state, this.context), () => {}, then)
    else then()
  }

  restartDue(): void {
    this.pushSys({ kind: 'restart-due' })
  }

  protected fail(error: unknown): void {
    superviseFailure(this, error)
  }

  // ---- Lifecycle --------------------------------------------------------

  protected sysQueue(create: boolean): RingQueue<SysMsg> | null {
    if (!create) return this.x?.sysQueue ?? null
    const parts = this.parts()
    return (parts.sysQueue ??= new RingQueue<SysMsg>(4))
  }

  protected handleSys(msg: SysMsg): void {
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

  protected start(): void {
    try {
      this.state = this.def.initial(this.context)
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
      () => onStart(this.state, this.context),
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

  /** Stops after the current message: children first, then onStop, then watchers are told. */
  requestStop(reason: StopReason): void {
    if (this.status >= STOPPING) return
    this.status = STOPPING
    this.parts().stopReason = reason
    this.pushSys({ kind: 'stop' })
  }

  /**
   * Stops this actor and everything under it now, whatever they are running
   * (terminate's timeout): children first, a handler still running is
   * abandoned, onStop still runs (not waited for if async). Adds the paths
   * of the actors that had not terminated yet to `out`.
   */
  forceStop(out: string[]): void {
    if (this.status === TERMINATED) return
    if (this.parent !== null) out.push(this.path)
    for (const child of this.x?.children?.list() ?? []) child.forceStop(out)
    this.requestStop({ kind: 'system-stopped' })
    this.abandonTurn()
  }

  private beginStop(): void {
    this.x?.timers?.cancelAll()
    this.stopChildren(() => {
      const onStop = this.def.onStop
      if (!onStop) return this.terminate()
      this.runHook(
        () => onStop(this.state, this.context),
        (err) => this.host.emitFailure(this.self, err, 'stop'),
        () => this.terminate(),
      )
    })
  }

  stopChildren(then: () => void): void {
    const children = this.x?.children
    if (children == null) return then()
    children.stopAll(then)
  }

  private childTerminated(child: ActorCell, reason: StopReason): void {
    const children = this.x?.children
    if (children == null || !children.remove(child)) return
    if (reason.kind === 'failed' && this.status < STOPPING) {
      this.x?.deathWatch?.forget(child)
      this.pushSignal({ type: 'child-failed', ref: child.self, error: reason.error })
    }
    children.settle()
  }

  private terminate(): void {
    if (this.status === TERMINATED) return
    this.status = TERMINATED
    const reason = this.x?.stopReason ?? { kind: 'stopped' }
    this.drainMailbox((env) => this.discard(env, 'stopped'))
    this.dropStash('stopped')
    if (this.x !== null) this.x.sysQueue = null
    const death = this.x?.deathWatch
    death?.leaveAll(this)
    this.parent?.childTerminated(this, reason)
    // The parent hears of a failure through child-failed instead.
    death?.notifyAll(this.self, reason, reason.kind === 'failed' ? this.parent : null)
    this.host.emitStopped(this.self, reason)
  }

  private discard(env: Envelope, reason: string): void {
    if (env.sys !== null && !(env.sys instanceof TimerEntry)) return
    env.reply?.reject(new TroupeError('ACTOR_STOPPED', `actor ${this.path} stopped before handling '${env.type}'`))
    this.host.deadLetter(this.path, env.type, env.payload, reason)
  }

  private dropStash(reason: string): void {
    const stashed = this.x?.stash?.takeAll()
    if (stashed) for (const env of stashed) this.discard(env, reason)
  }

  private deathWatch(): DeathWatch {
    const parts = this.parts()
    return (parts.deathWatch ??= new DeathWatch())
  }
}

/** The parts of a cell most actors never use, made on first use. */
class CellParts {
  sysQueue: RingQueue<SysMsg> | null = null
  children: Children<ActorCell> | null = null
  deathWatch: DeathWatch | null = null
  timers: ActorTimers | null = null
  stash: Stash | null = null
  restarts: RestartWindow | null = null
  stopReason: StopReason | null = null
}
