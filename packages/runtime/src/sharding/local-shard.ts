import type { ActorRef } from '../actor-ref.js'
import type { ActivationPermit } from './activation-guard.js'
import type { ReplyTarget } from '../internal/envelope.js'

/**
 * What a region does with a shard it has state for.
 * - waiting: owned under this node's view, but a peer may still host it (its
 *   last status claims it); messages are buffered.
 * - active: owned and nobody else claims it; messages go to its entities.
 * - draining: no longer owned, but peers may still route to this node; it
 *   keeps serving until every peer's status shows it routes elsewhere (or
 *   handoffTimeoutMs passes), so messages already on their way are handled
 *   here, in order, before the new owner starts.
 * - stopping: entities were told to stop after the messages they already
 *   hold; new messages are buffered and forwarded once the shard is released.
 */
export type ShardPhase = 'waiting' | 'active' | 'draining' | 'stopping'

export interface EntityEntry {
  readonly key: string
  readonly kind: string
  readonly id: string
  readonly shard: number
  readonly ref: ActorRef<any>
  lastActiveMs: number
  /** Why the entity was told to stop; messages for it are buffered meanwhile. */
  stopping: null | 'passivate' | 'handoff' | 'forced'
  /** What it runs under with an activation guard; released once it has stopped. */
  readonly permit: ActivationPermit | null
}

/**
 * An entity waiting for its permit (strict single activation). Its messages
 * wait in the shard's buffer; `attempt` tells a late answer from the current one.
 */
export interface Acquisition {
  readonly key: string
  readonly kind: string
  readonly id: string
  readonly shard: number
  attempt: number
  /** Aborts the guard's acquire; null while waiting to retry. */
  controller: AbortController | null
  failures: number
  retryAtMs: number
}

/** A message a region holds until it can deliver or forward it. */
export interface Buffered {
  readonly kind: string
  readonly id: string
  readonly key: string
  readonly type: string
  readonly payload: unknown
  readonly sender: ActorRef | null
  readonly reply: ReplyTarget | null
  hops: number
  /** For asks: how long the asker waits in total (0 for tells). */
  readonly timeoutMs: number
  readonly atMs: number
}

export class LocalShard {
  readonly entities = new Map<string, EntityEntry>()
  /** FIFO; bounded by the region's maxBufferedMessages across all shards. */
  buffer: Buffered[] = []

  constructor(
    readonly id: number,
    public phase: ShardPhase,
    public sinceMs: number,
  ) {}

  get handingOff(): boolean {
    return this.phase === 'draining' || this.phase === 'stopping'
  }

  /** Takes the buffered messages for one entity out, in order. */
  takeFor(key: string): Buffered[] {
    const mine: Buffered[] = []
    const rest: Buffered[] = []
    for (const m of this.buffer) (m.key === key ? mine : rest).push(m)
    this.buffer = rest
    return mine
  }
}
