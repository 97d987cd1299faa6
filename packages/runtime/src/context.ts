import type { ActorRef } from './actor-ref.js'
import type { ActorDef, SpawnOptions } from './define.js'
import type { AnyProtocol, PayloadOf, Protocol } from './protocol.js'
import type { ActorSystem } from './system.js'
import type { Timers } from './timers.js'

/** A reply that the handler will give later (after it returns). */
export interface DeferredReply<T = unknown> {
  /** False when the message was a tell: nobody is waiting. */
  readonly expected: boolean
  resolve(value: T): void
  reject(error: unknown): void
}

/** What a handler can do besides changing its state. */
export interface ActorContext<P extends Protocol = AnyProtocol> {
  readonly self: ActorRef<P>
  /** The sender of the current message, when it was sent with `ctx.tell`; else null. */
  readonly sender: ActorRef | null
  readonly system: ActorSystem
  /** Per-actor keyed timers; they deliver messages to this actor and stop with it. */
  readonly timers: Timers<P>
  /** Spawns a child; stopping this actor stops its children first. */
  spawn<Q extends Protocol>(def: ActorDef<Q, any>, options?: SpawnOptions): ActorRef<Q>
  /** Stops this actor (no ref) or one of its children, after the current message. */
  stop(ref?: ActorRef<any>): void
  /** Delivers a Terminated signal when `ref` stops (at once if it is already gone). */
  watch(ref: ActorRef<any>): void
  unwatch(ref: ActorRef<any>): void
  /** Tells with this actor as the sender. */
  tell<Q extends Protocol, K extends keyof Q & string>(ref: ActorRef<Q>, type: K, payload: PayloadOf<Q, K>): void
  /** Puts the current message aside (bounded); `unstashAll` puts stashed ones back in front. */
  stash(): void
  unstashAll(): void
  readonly stashSize: number
  /** Answer the current ask later: the handler's return value is then ignored. */
  deferReply<T = unknown>(): DeferredReply<T>
  child(name: string): ActorRef | undefined
  children(): ActorRef[]
}
