import type { ActorContext } from '../context.js'
import type { ActorRef } from '../actor-ref.js'

/**
 * The right to run one entity on this node, granted by an `ActivationGuard`
 * (with `@troupe/lease`: a lease on the entity's name). A `Lease` is one.
 */
export interface ActivationPermit {
  /**
   * Fencing token: greater than every token of an earlier activation of the
   * same entity. Pass it with every state write; the store refuses lower ones.
   */
  readonly token: number
  /** Fires when the right is lost or may be lost; the region then stops the entity. */
  readonly signal: AbortSignal
  /** False once the right is lost or may be lost (may read the clock, so it can turn false before `signal` fires). */
  readonly held?: boolean
  /** Gives the right up; called once the entity has stopped (its `onStop` has run). */
  release(): unknown
}

/**
 * Decides whether this node may run an entity: strict single activation.
 * Without a guard, two nodes whose views disagree (a partition before
 * downing) can run the same entity at once; with one, an entity runs only
 * while this node holds its permit, so at most one node runs it at a time
 * (under the guard's own clock assumptions), and its state writes carry a
 * fencing token for the cases those assumptions miss.
 */
export interface ActivationGuard {
  /**
   * Resolves with a permit once this node may run entity `id` of `kind`
   * (waiting while another node holds it). `signal` aborts when the region
   * no longer wants it (the shard moved, sharding stopped); reject then. A
   * rejection for any other reason is retried with backoff while messages
   * for the entity wait.
   */
  acquire(kind: string, id: string, signal: AbortSignal): Promise<ActivationPermit>
}

const permits = new WeakMap<ActorRef<any>, ActivationPermit>()

/** @internal */
export function rememberPermit(ref: ActorRef<any>, permit: ActivationPermit): void {
  permits.set(ref, permit)
}

/** @internal the permit an entity runs under (undefined: no guard). */
export function permitOf(ref: ActorRef<any>): ActivationPermit | undefined {
  return permits.get(ref)
}

/**
 * The permit the entity running in `ctx` was activated under (its fencing
 * `token` and `signal`), or null when sharding runs without an
 * `activationGuard` (or `ctx` is not an entity).
 */
export function entityActivation(ctx: ActorContext<any>): ActivationPermit | null {
  return permits.get(ctx.self) ?? null
}

/** Whether a permit still holds (by its own clock when it can tell). */
export function permitHeld(permit: ActivationPermit): boolean {
  const held = permit.held
  return held === undefined ? !permit.signal.aborted : held && !permit.signal.aborted
}

/** Gives a permit back, best effort: a guard's failed release lapses by itself. */
export function releasePermit(permit: ActivationPermit): void {
  try {
    void Promise.resolve(permit.release()).catch(() => undefined)
  } catch {
    // A guard's release is best effort: the permit lapses by itself.
  }
}
