import type { ActorContext } from '../context.js'
import type { ActorDef } from '../define.js'
import type { ActorSystem } from '../system.js'
import type { ActivationGuard } from './activation-guard.js'
import type { LocalShard } from './local-shard.js'
import type { MembershipView } from './membership-view.js'

export interface RegionConfig {
  readonly shards: number
  /** 0 disables passivation. */
  readonly passivateAfterMs: number
  readonly handoffTimeoutMs: number
  readonly maxBufferedMessages: number
  readonly tickMs: number
  /** Strict single activation: an entity runs only under a permit from this guard. */
  readonly activationGuard: ActivationGuard | null
  /** First retry delay after the guard failed to answer (doubles per failure, up to 32×). */
  readonly permitRetryMs: number
}

/**
 * What every part of a shard region shares: the node's system and view, the
 * registered kinds, the region actor's context, and the shards this node has
 * state for (keyed by shard number; a shard without local state has no entry).
 */
export class RegionContext {
  /** Set when the region actor starts, before any message. */
  ctx!: ActorContext<any>
  readonly shards = new Map<number, LocalShard>()
  /** One sequence for entity child names and permit attempts. */
  private serial = 0

  constructor(
    readonly system: ActorSystem,
    readonly view: MembershipView,
    readonly kinds: ReadonlyMap<string, ActorDef<any, any>>,
    readonly config: RegionConfig,
  ) {}

  get self(): string {
    return this.view.self
  }

  now(): number {
    return this.system.clock.now()
  }

  nextSerial(): number {
    return ++this.serial
  }

  incarnationOf(node: string): number | null {
    return this.view.incarnationOf?.(node) ?? null
  }
}
