import type { ReplyTarget } from '../internal/envelope.js'
import type { Outbox } from './outbox.js'
import { Kind } from './wire.js'
import { toWireError } from './wire-error.js'

/**
 * The asks one peer has in flight on this node: each holds a slot from its
 * arrival until it is answered. Insertion order is arrival order.
 * Invariant: held.size <= maxAsksInFlightPerPeer.
 *
 * A slot whose answer never comes (a deferred reply dropped) must not hold
 * forever, yet reading the clock per ask is not free (nor neutral in a
 * simulation), so age is kept in generations: the clock is read only when
 * all slots are taken. Each slot carries the generation it arrived in; a
 * generation starts at such a moment, and once the current one is
 * `holdMs` old, every slot from before it (held at least that long) is given up.
 */
export class AskSlots {
  readonly held = new Set<ReplyToRemote>()
  /** The generation new slots get. */
  generation = 0
  /** When the current generation started (system clock); -1 before the first time all slots were taken. */
  private generationStartMs = -1

  /** Takes a slot for `reply`; false when all are held. A given-up slot's late answer still goes out. */
  take(reply: ReplyToRemote, max: number, now: () => number, holdMs: number): boolean {
    if (this.held.size >= max && !this.giveUpStale(now(), holdMs)) return false
    this.held.add(reply)
    return true
  }

  private giveUpStale(nowMs: number, holdMs: number): boolean {
    if (this.generationStartMs >= 0 && nowMs - this.generationStartMs < holdMs) return false
    const before = this.held.size
    if (this.generationStartMs >= 0) {
      for (const slot of this.held) {
        if (slot.generation >= this.generation) break
        this.held.delete(slot)
      }
    }
    this.generation++
    this.generationStartMs = nowMs
    return this.held.size < before
  }
}

/** The answering side of a remote ask: its answer goes back as a Reply envelope and frees its slot. */
export class ReplyToRemote implements ReplyTarget {
  constructor(
    private readonly outbox: Outbox,
    private readonly node: string,
    private readonly askId: number,
    private readonly slots: AskSlots,
  ) {
    this.generation = slots.generation
  }

  /** The slot generation it arrived in. */
  readonly generation: number

  resolve(value: unknown): void {
    this.send(true, value)
  }

  reject(error: unknown): void {
    this.send(false, error)
  }

  private send(ok: boolean, value: unknown): void {
    this.slots.held.delete(this)
    try {
      this.outbox.enqueue(this.node, [Kind.Reply, this.askId, ok, ok ? value : toWireError(value)])
    } catch (err) {
      // The value could not be encoded (or is too large): the asker gets that error instead.
      this.outbox.enqueue(this.node, [Kind.Reply, this.askId, false, toWireError(err)])
    }
  }
}
