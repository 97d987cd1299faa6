import type { ActorRef } from '../actor-ref.js'
import type { ActorDef } from '../define.js'
import { invariant } from '../errors.js'
import { releasePermit, rememberPermit } from './activation-guard.js'
import type { ActivationPermit } from './activation-guard.js'
import { STOP_TOKEN, STOP_TYPE } from './entity-def.js'
import { childName, rememberIdentity } from './entity-id.js'
import type { Buffered, EntityEntry, LocalShard } from './local-shard.js'
import type { Passivation } from './passivation.js'
import type { RegionContext } from './region-context.js'

/** Who an entity is: enough to spawn it. */
export interface EntityIdentity {
  readonly key: string
  readonly kind: string
  readonly id: string
}

/**
 * The entity actors a region runs (its children): spawning one, handing it
 * a message, telling it to stop, and the bookkeeping once it has stopped.
 */
export class LocalEntities {
  private readonly byRef = new Map<ActorRef<any>, EntityEntry>()
  activations = 0
  passivations = 0

  constructor(
    private readonly rc: RegionContext,
    private readonly passivation: Passivation,
  ) {}

  activate(shard: LocalShard, who: EntityIdentity, def: ActorDef<any, any>, permit: ActivationPermit | null): EntityEntry {
    const ctx = this.rc.ctx
    const ref = ctx.spawn(def, { name: childName(who.kind, who.id, this.rc.nextSerial()) })
    rememberIdentity(ref, { kind: who.kind, id: who.id })
    if (permit !== null) rememberPermit(ref, permit)
    ctx.watch(ref)
    const entry: EntityEntry = { key: who.key, kind: who.kind, id: who.id, shard: shard.id, ref, lastActiveMs: this.rc.now(), stopping: null, permit }
    shard.entities.set(who.key, entry)
    this.byRef.set(ref, entry)
    this.activations++
    return entry
  }

  deliver(entry: EntityEntry, m: Buffered): void {
    this.passivation.touch(entry, this.rc.now())
    try {
      entry.ref._target.deliver(m.type, m.payload, m.sender, m.reply)
    } catch {
      // MAILBOX_FULL under the 'reject' policy: the entity already dead-lettered it.
    }
  }

  /** Whether the entry is the running incarnation (not one that has stopped). */
  isLive(entry: EntityEntry): boolean {
    return this.byRef.get(entry.ref) === entry
  }

  /** Tells the entity to stop after the messages it already holds; messages for it are buffered meanwhile. */
  stop(entry: EntityEntry, why: 'passivate' | 'handoff'): void {
    entry.stopping = why
    this.passivation.forget(entry.key)
    this.sendStop(entry)
  }

  /** Stops the entity after its current message; what it still holds is dead-lettered. */
  forceStop(entry: EntityEntry): void {
    entry.stopping = 'forced'
    this.rc.ctx.stop(entry.ref)
  }

  /** The entity may no longer run (its permit was lost): it is no passivation candidate, and it stops now. */
  revoke(entry: EntityEntry): void {
    this.passivation.forget(entry.key)
    this.forceStop(entry)
  }

  /**
   * An entity child has stopped: it leaves its shard and gives its permit
   * back. Returns what it was and its shard, or null for a ref that is not
   * (or no longer) one of these entities.
   */
  onStopped(ref: ActorRef): { entry: EntityEntry; shard: LocalShard } | null {
    const entry = this.byRef.get(ref)
    if (entry === undefined) return null
    this.byRef.delete(ref)
    this.passivation.forgetEntry(entry)
    const shard = this.rc.shards.get(entry.shard)
    invariant(shard !== undefined && shard.entities.get(entry.key) === entry, `entity ${entry.key} stopped outside its shard`)
    shard.entities.delete(entry.key)
    if (entry.permit !== null) releasePermit(entry.permit)
    if (entry.stopping === 'passivate') this.passivations++
    return { entry, shard }
  }

  /** The region stops: its children have stopped by now, so their permits can go. */
  releaseAll(): void {
    for (const entry of this.byRef.values()) if (entry.permit !== null) releasePermit(entry.permit)
    this.byRef.clear()
  }

  private sendStop(entry: EntityEntry): void {
    try {
      entry.ref._target.deliver(STOP_TYPE, STOP_TOKEN, null, null)
    } catch {
      // Its mailbox is full: stop it after its current message; what it still holds is dead-lettered.
      this.forceStop(entry)
    }
  }
}
