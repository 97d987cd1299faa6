import type { ActorRef } from '../actor-ref.js'
import type { ActorContext, DeferredReply } from '../context.js'
import type { ActorDef, SpawnOptions } from '../define.js'
import type { ActorSystem } from '../system.js'
import type { ActorTimers } from '../timers.js'
import { TroupeError } from '../errors.js'
import type { ActorCell } from './actor-cell.js'

const NOOP_REPLY: DeferredReply<never> = { expected: false, resolve() {}, reject() {} }

/**
 * The `ctx` an actor's handlers and hooks get: what they may do besides
 * changing state. One per actor, made on its first turn; it only forwards
 * to the cell, which keeps the state of each part.
 */
export class CellContext implements ActorContext<any> {
  constructor(private readonly cell: ActorCell) {}

  get self(): ActorRef {
    return this.cell.self
  }

  get sender(): ActorRef | null {
    return this.cell.current?.sender ?? null
  }

  get system(): ActorSystem {
    return this.cell.system
  }

  get timers(): ActorTimers {
    return this.cell.timers()
  }

  spawn(def: ActorDef<any, any>, options?: SpawnOptions): ActorRef<any> {
    return this.cell.spawn(def, options)
  }

  stop(ref?: ActorRef<any>): void {
    this.cell.stop(ref)
  }

  watch(ref: ActorRef<any>): void {
    this.cell.watch(ref)
  }

  unwatch(ref: ActorRef<any>): void {
    this.cell.unwatch(ref)
  }

  tell(ref: ActorRef<any>, type: string, payload: unknown): void {
    ref._target.deliver(type, payload, this.cell.self, null)
  }

  stash(): void {
    const cell = this.cell
    const env = cell.current
    if (env === null) throw new TroupeError('INVALID_ARGUMENT', 'stash() is only valid while handling a message')
    cell.stash().push(env, cell.def.stashCapacity ?? 1000, cell.path)
    cell.replyTaken = true
  }

  unstashAll(): void {
    const stashed = this.cell.stash().takeAll()
    if (stashed.length > 0) this.cell.requeueFront(stashed)
  }

  get stashSize(): number {
    return this.cell.stash().size
  }

  deferReply<T>(): DeferredReply<T> {
    const cell = this.cell
    const env = cell.current
    if (env === null) throw new TroupeError('INVALID_ARGUMENT', 'deferReply() is only valid while handling a message')
    if (env.reply === null || cell.replyTaken) return NOOP_REPLY
    cell.replyTaken = true
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
    return this.cell.childCell(name)?.self
  }

  children(): ActorRef[] {
    return this.cell.childRefs()
  }
}
