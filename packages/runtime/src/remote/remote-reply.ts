import type { ReplyTarget } from '../internal/envelope.js'
import type { Outbox } from './outbox.js'
import { Kind } from './wire.js'
import { toWireError } from './wire-error.js'

/**
 * The asks one peer has in flight on this node: each holds a slot from its
 * arrival until it is answered. Insertion order is age order, so the oldest
 * is the first. Invariant: size <= maxAsksInFlightPerPeer.
 */
export class AskSlots {
  readonly held = new Set<ReplyToRemote>()

  /**
   * Takes a slot for `reply`; false when all are held. A slot held longer
   * than `holdMs` (its answer was dropped, say a deferred reply never sent)
   * is given up for the new ask; that late answer, if it comes, still goes out.
   */
  take(reply: ReplyToRemote, max: number, nowMs: number, holdMs: number): boolean {
    if (this.held.size >= max) {
      const oldest = this.held.values().next().value
      if (oldest === undefined || nowMs - oldest.startedMs < holdMs) return false
      this.held.delete(oldest)
    }
    this.held.add(reply)
    return true
  }
}

/** The answering side of a remote ask: its answer goes back as a Reply envelope and frees its slot. */
export class ReplyToRemote implements ReplyTarget {
  constructor(
    private readonly outbox: Outbox,
    private readonly node: string,
    private readonly askId: number,
    private readonly slots: AskSlots,
    /** When the ask arrived (the system clock). */
    readonly startedMs: number,
  ) {}

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
