import type { ActorRef } from '../actor-ref.js'

/** Where the answer to an `ask` goes: a local pending promise or a remote asker. */
export interface ReplyTarget {
  resolve(value: unknown): void
  reject(error: unknown): void
}

/**
 * One message in a mailbox. `sys` marks runtime-made messages (a timer firing
 * or a signal); user messages have `sys === null`. A low-level behavior sees
 * the envelope itself as its `{ type, payload }` message, so no copy is made.
 */
export class Envelope {
  constructor(
    readonly type: string,
    readonly payload: unknown,
    readonly sender: ActorRef | null,
    readonly reply: ReplyTarget | null,
    readonly sys: object | null,
  ) {}
}
