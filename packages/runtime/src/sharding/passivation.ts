import type { EntityEntry } from './local-shard.js'

/**
 * Passivation: an entity that got no message for passivateAfterMs is told
 * to stop (after the messages it already holds); the next message for it
 * activates a new incarnation. Active entities are kept least recently used
 * first, so the scan stops at the first busy one.
 */
export class Passivation {
  private readonly lru = new Map<string, EntityEntry>()

  constructor(private readonly afterMs: number) {}

  /** A message went to the entity at `nowMs`. */
  touch(entry: EntityEntry, nowMs: number): void {
    entry.lastActiveMs = nowMs
    this.lru.delete(entry.key)
    this.lru.set(entry.key, entry)
  }

  /** The entity is stopping for another reason: it is no longer a candidate. */
  forget(key: string): void {
    this.lru.delete(key)
  }

  /** The entity has stopped (a newer incarnation under the same key stays). */
  forgetEntry(entry: EntityEntry): void {
    if (this.lru.get(entry.key) === entry) this.lru.delete(entry.key)
  }

  /** The entities idle for passivateAfterMs at `nowMs`, each taken out as it is yielded (none when passivation is off). */
  *due(nowMs: number): Generator<EntityEntry> {
    if (this.afterMs <= 0) return
    for (const entry of this.lru.values()) {
      if (nowMs - entry.lastActiveMs < this.afterMs) break
      this.lru.delete(entry.key)
      yield entry
    }
  }
}
