import type { ActorRef } from './actor-ref.js'

/** Why an actor stopped. */
export type StopReason =
  | { readonly kind: 'stopped' }
  | { readonly kind: 'failed'; readonly error: unknown }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'node-down'; readonly node: string }
  | { readonly kind: 'system-stopped' }

/** Delivered to an actor that watches `ref` once `ref` has stopped. */
export interface Terminated {
  readonly type: 'terminated'
  readonly ref: ActorRef
  readonly reason: StopReason
}

/** Delivered to a parent when its child stopped because of a failure (instead of Terminated). */
export interface ChildFailed {
  readonly type: 'child-failed'
  readonly ref: ActorRef
  readonly error: unknown
}

export type Signal = Terminated | ChildFailed
