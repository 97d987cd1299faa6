import type { ReplyTarget } from '../internal/envelope.js'
import type { Outbox } from './outbox.js'
import { Kind } from './wire.js'
import { toWireError } from './wire-error.js'

/**
 * The asks one peer has in flight on this node: each holds a slot from its
 * arrival until it is answered. Invariant: held <= maxAsksInFlightPerPeer.
 *
 * A slot whose answer never comes (a deferred reply dropped) must not hold
 * forever, yet neither a clock read nor a set entry per ask is free (and a
 * simulated clock's reads are part of its run), so age is kept in
 * generations, counted: the clock is read only when all slots are taken.
 * Each slot carries the generation it arrived in; a generation starts at
 * such a moment, and once the current one is `holdMs` old, the slots of the
 * one before (held at least that long) are given up. So only two
 * generations hold slots at any time: the current one and the one before.
 */
export class AskSlots {
  /** The generation new slots get. */
  generation = 0
  /** Slots of `generation` and of `generation - 1` still held. */
  private current = 0
  private previous = 0
  /** When the current generation started (system clock); -1 before the first time all slots were taken. */
  private generationStartMs = -1

  get held(): number {
    return this.current + this.previous
  }

  /** Takes a slot in the current generation; false when all are held. */
  take(max: number, now: () => number, holdMs: number): boolean {
    if (this.current + this.previous >= max && !this.giveUpStale(now(), holdMs)) return false
    this.current++
    return true
  }

  /** The slot taken in `generation` is free again (nothing when that slot was given up). */
  release(generation: number): void {
    if (generation === this.generation) this.current--
    else if (generation === this.generation - 1) this.previous--
  }

  /** The peer is gone: every slot is given up. */
  clear(): void {
    this.generation += 2
    this.current = 0
    this.previous = 0
  }

  private giveUpStale(nowMs: number, holdMs: number): boolean {
    if (this.generationStartMs >= 0 && nowMs - this.generationStartMs < holdMs) return false
    const givenUp = this.previous
    this.previous = this.current
    this.current = 0
    this.generation++
    this.generationStartMs = nowMs
    return givenUp > 0
  }
}

/** The answering side of a remote ask: its answer goes back as a Reply envelope and frees its slot. */
export class ReplyToRemote implements ReplyTarget {
  constructor(
    private readonly outbox: Outbox,
    private readonly node: string,
    private readonly askId: number,
    private readonly slots: AskSlots,
  ) {}

  /** The slot generation it arrived in; -1 while it holds no slot. */
  generation = -1

  /** Takes a slot of its peer's; false when all are held. A given-up slot's late answer still goes out. */
  takeSlot(max: number, now: () => number, holdMs: number): boolean {
    if (!this.slots.take(max, now, holdMs)) return false
    this.generation = this.slots.generation
    return true
  }

  resolve(value: unknown): void {
    this.send(true, value)
  }

  reject(error: unknown): void {
    this.send(false, error)
  }

  private send(ok: boolean, value: unknown): void {
    if (this.generation >= 0) {
      this.slots.release(this.generation)
      this.generation = -1
    }
    try {
      this.outbox.enqueue(this.node, [Kind.Reply, this.askId, ok, ok ? value : toWireError(value)])
    } catch (err) {
      // The value could not be encoded (or is too large): the asker gets that error instead.
      this.outbox.enqueue(this.node, [Kind.Reply, this.askId, false, toWireError(err)])
    }
  }
}
