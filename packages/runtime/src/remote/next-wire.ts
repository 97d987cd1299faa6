import { EventEmitter } from 'eventemitter3'
import { WIRE_VERSION_NEXT } from '../wire-version.js'

/**
 * What wire version 3 adds, spoken only by the test build (`wire: {
 * experimental: 'next' }`) and only with a peer whose connection agreed on
 * version 3. It exists to prove that adjacent versions interoperate during a
 * rolling upgrade:
 *
 * - a trailing field on tell and ask envelopes: the sender's count of
 *   envelopes to that peer (older nodes ignore it, as any trailing field);
 * - a new envelope kind, a note: `[7, text]` (older nodes reject it as an
 *   unknown kind and keep the connection, so it is sent only at version 3).
 */
export const NOTE_KIND = 7
const MAX_NOTE_CHARS = 1024

export interface NextWireStats {
  /** Tells and asks received with the version-3 trailing field. */
  trailingFieldsSeen: number
  /** The highest trailing field value seen per peer (its envelope count). */
  lastFieldFrom: Record<string, number>
  notesReceived: number
}

export class NextWire {
  readonly events = new EventEmitter<{ note: [from: string, text: string] }>()
  /** Per peer: envelopes sent with the trailing field. Bounded by peers; forgotten when a peer goes down. */
  private readonly sent = new Map<string, number>()
  private readonly last = new Map<string, number>()
  private seen = 0
  private notes = 0

  constructor(private readonly peerVersion: (node: string) => number) {}

  /** The link to `node` speaks version 3. */
  speaks(node: string): boolean {
    return this.peerVersion(node) >= WIRE_VERSION_NEXT
  }

  /** Appends the trailing field to a tell or ask for `node`, when the link speaks version 3. */
  extend(node: string, envelope: unknown[]): unknown[] {
    if (!this.speaks(node)) return envelope
    const n = (this.sent.get(node) ?? 0) + 1
    this.sent.set(node, n)
    envelope.push(n)
    return envelope
  }

  /** A tell or ask from `from` carried `field` after its known fields. */
  received(from: string, field: unknown): void {
    if (!this.speaks(from) || typeof field !== 'number' || !Number.isSafeInteger(field)) return
    this.seen++
    this.last.set(from, Math.max(this.last.get(from) ?? 0, field))
  }

  /** A note from `from`; false when it is malformed. */
  note(from: string, text: unknown): boolean {
    if (typeof text !== 'string' || text.length > MAX_NOTE_CHARS) return false
    this.notes++
    this.events.emit('note', from, text)
    return true
  }

  forget(node: string): void {
    this.sent.delete(node)
    this.last.delete(node)
  }

  stats(): NextWireStats {
    return { trailingFieldsSeen: this.seen, lastFieldFrom: Object.fromEntries(this.last), notesReceived: this.notes }
  }
}
