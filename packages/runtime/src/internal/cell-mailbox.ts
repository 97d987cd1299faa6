import type { ActorRef } from '../actor-ref.js'
import type { ActorContext } from '../context.js'
import type { ActorDef } from '../define.js'
import { TroupeError, isTroupeError } from '../errors.js'
import type { Signal } from '../signals.js'
import { TimerEntry } from '../timers.js'
import type { CellHost } from './actor-cell.js'
import type { CellProps } from './cell-props.js'
import { Envelope } from './envelope.js'
import type { ReplyTarget } from './envelope.js'
import { RingQueue } from './queue.js'

// Lifecycle states, in order: a cell only moves forward, except Suspended ⇄ Running on restart.
export const STARTING = 0
export const RUNNING = 1
export const SUSPENDED = 2
export const STOPPING = 3
export const TERMINATED = 4

/** System messages: processed before user messages, never subject to capacity. */
export type SysMsg = { kind: 'stop' } | { kind: 'restart-due' } | { kind: 'escalated'; error: unknown }

/**
 * The mailbox side of an actor cell: user messages (bounded, with the
 * overflow policy), system messages before them, and the turn that handles
 * one message at a time — an async handler or hook holds the turn until it
 * settles. What a turn starts, stops or supervises is the cell's.
 */
export abstract class CellMailbox {
  protected status = STARTING
  private mailbox: RingQueue<Envelope> | null = null
  /** The message being handled (its handler may still be running). */
  current: Envelope | null = null
  /** The current message's reply was taken over (deferReply, stash): the handler's result answers nothing. */
  replyTaken = false
  /** On the dispatcher's run queue. */
  scheduled = false
  /** An async handler or hook is in flight: no other message may start. */
  private busy = false
  /**
   * Stopped by force (terminate's timeout): a handler still running is
   * abandoned (its result answers nothing), and async stop hooks are started
   * but not waited for.
   */
  protected forced = false
  /** What the hook holding the turn runs when it settles (null when no hook holds it). */
  private hookDone: (() => void) | null = null

  constructor(
    protected readonly host: CellHost,
    readonly uid: number,
    protected readonly props: CellProps,
  ) {}

  abstract readonly path: string
  abstract readonly def: ActorDef<any, any>
  abstract state: unknown
  protected abstract readonly context: ActorContext<any>
  /** The system queue, when there is one (`create`: make it). */
  protected abstract sysQueue(create: boolean): RingQueue<SysMsg> | null
  /** Is this timer's message still due (not cancelled or replaced)? */
  protected abstract timerIsCurrent(entry: TimerEntry): boolean
  /** The first turn, and the turn after a restart: initial() and onStart. */
  protected abstract start(): void
  protected abstract handleSys(msg: SysMsg): void
  protected abstract fail(error: unknown): void

  deliver(type: string, payload: unknown, sender: ActorRef | null, reply: ReplyTarget | null): void {
    if (this.status >= STOPPING) {
      reply?.reject(new TroupeError('ACTOR_STOPPED', `actor ${this.path} is stopped`))
      this.host.deadLetter(this.path, type, payload, 'stopped')
      return
    }
    const mailbox = (this.mailbox ??= new RingQueue<Envelope>(4))
    const { capacity, overflow } = this.props.mailbox
    if (mailbox.length >= capacity) {
      this.host.deadLetter(this.path, type, payload, 'mailbox-full')
      const error = new TroupeError('MAILBOX_FULL', `mailbox of ${this.path} is full (${capacity})`)
      if (reply !== null) return reply.reject(error)
      if (overflow === 'reject') throw error
      return
    }
    mailbox.push(new Envelope(type, payload, sender, reply, null))
    if (!this.scheduled && !this.busy) this.host.schedule(this)
  }

  deliverTimer(entry: TimerEntry): void {
    if (this.status >= STOPPING) return
    const mailbox = (this.mailbox ??= new RingQueue<Envelope>(4))
    if (mailbox.length >= this.props.mailbox.capacity) {
      this.host.deadLetter(this.path, entry.type, entry.payload, 'mailbox-full')
      return
    }
    mailbox.push(new Envelope(entry.type, entry.payload, null, null, entry))
    if (!this.scheduled && !this.busy) this.host.schedule(this)
  }

  /** Puts messages back at the front of the mailbox, in their order (unstash). */
  requeueFront(envs: Envelope[]): void {
    const mailbox = (this.mailbox ??= new RingQueue<Envelope>(4))
    for (let i = envs.length - 1; i >= 0; i--) mailbox.unshift(envs[i])
    if (!this.scheduled && !this.busy) this.host.schedule(this)
  }

  /** Takes every queued user message out (the cell terminates). */
  protected drainMailbox(each: (env: Envelope) => void): void {
    const mailbox = this.mailbox
    if (mailbox === null) return
    for (let env = mailbox.shift(); env !== undefined; env = mailbox.shift()) each(env)
  }

  hasWork(): boolean {
    if (this.busy || this.status === TERMINATED) return false
    if (this.status === STARTING) return true
    const sys = this.sysQueue(false)
    if (sys !== null && sys.length > 0) return true
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
      const sys = this.sysQueue(false)
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
        if (!this.timerIsCurrent(env.sys)) return
      } else {
        return this.invokeSignal(env.sys as Signal)
      }
    }
    this.current = env
    this.replyTaken = false
    let result: unknown
    try {
      result = this.def.receive(this.state, env, this.context)
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
    // Abandoned by a forced stop: the turn is no longer this handler's.
    if (this.forced) return
    this.busy = false
    this.current = null
    if (failed) this.handlerFailed(env, error)
    else if (env.reply !== null && !this.replyTaken) env.reply.resolve(value)
    this.wake()
  }

  private invokeSignal(signal: Signal): void {
    const hook = this.def.onSignal
    if (!hook) return
    this.runHook(() => hook(this.state, signal, this.context), (err) => this.fail(err))
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

  /** Runs a hook that may be async; the actor handles nothing else until it settles. */
  protected runHook(hook: () => unknown, onError: (err: unknown) => void, onDone?: () => void): void {
    let result: unknown
    try {
      result = hook()
    } catch (err) {
      onError(err)
      onDone?.()
      return
    }
    if (!isPromiseLike(result)) return onDone?.()
    if (this.forced) {
      // Stopping by force: the hook runs on, but nothing waits for it.
      result.then(undefined, onError)
      return onDone?.()
    }
    this.busy = true
    const done = () => onDone?.()
    this.hookDone = done
    const settle = (err: unknown, failed: boolean) => {
      // A forced stop took the turn back and ran `done` already.
      if (this.hookDone !== done) return
      this.hookDone = null
      this.busy = false
      if (failed) onError(err)
      done()
      this.wake()
    }
    result.then(
      () => settle(undefined, false),
      (err) => settle(err, true),
    )
  }

  /**
   * Takes the turn back from a handler or hook that has not settled (a
   * forced stop): the handler's asker gets ACTOR_STOPPED and its result is
   * ignored; a hook counts as done. The stop then goes on without waiting.
   */
  protected abandonTurn(): void {
    this.forced = true
    if (!this.busy) return this.wake()
    this.busy = false
    const env = this.current
    this.current = null
    if (env !== null && env.reply !== null && !this.replyTaken) {
      env.reply.reject(new TroupeError('ACTOR_STOPPED', `actor ${this.path} was stopped by force before its handler for '${env.type}' finished`))
    }
    const done = this.hookDone
    this.hookDone = null
    done?.()
    this.wake()
  }

  protected pushSys(msg: SysMsg): void {
    this.sysQueue(true)!.push(msg)
    this.wake()
  }

  protected pushSignal(signal: Signal): void {
    if (this.status >= STOPPING) return
    ;(this.mailbox ??= new RingQueue<Envelope>(4)).push(new Envelope(signal.type, undefined, null, null, signal))
    this.wake()
  }

  private wake(): void {
    if (!this.scheduled && !this.busy && this.hasWork()) this.host.schedule(this)
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function'
}
