import type { ActorContext } from './context.js'
import { TroupeError } from './errors.js'
import type { Envelope } from './internal/envelope.js'
import type { MailboxOptions } from './mailbox.js'
import type { AnyProtocol, Message, Protocol } from './protocol.js'
import type { Signal } from './signals.js'
import type { SupervisionStrategy } from './supervision.js'

/**
 * A compiled actor definition, what `spawn` takes. Both `defineActor` (typed
 * handlers per message) and `defineBehavior` (one receive function) produce it.
 */
export interface ActorDef<P extends Protocol = AnyProtocol, S = unknown> {
  readonly kind: string
  readonly initial: (ctx: ActorContext<P>) => S
  /** @internal receives the envelope; its return value answers an ask. */
  readonly receive: (state: S, msg: Envelope, ctx: ActorContext<P>) => unknown
  readonly onStart?: (state: S, ctx: ActorContext<P>) => void | Promise<void>
  readonly onStop?: (state: S, ctx: ActorContext<P>) => void | Promise<void>
  readonly onSignal?: (state: S, signal: Signal, ctx: ActorContext<P>) => void | Promise<void>
  readonly supervision?: SupervisionStrategy
  readonly mailbox?: MailboxOptions
  /** Maximum stashed messages (default 1000). */
  readonly stashCapacity?: number
  /** Phantom: carries the protocol type. */
  readonly __protocol?: P
}

export interface SpawnOptions {
  /** Unique among siblings; generated when absent. Must not contain '/' or '#'. */
  name?: string
  /** Overrides the definition's supervision strategy. */
  supervision?: SupervisionStrategy
  /** Overrides the definition's mailbox settings. */
  mailbox?: MailboxOptions
}

interface Hooks<S> {
  onStart?: (state: S, ctx: ActorContext<any>) => void | Promise<void>
  onStop?: (state: S, ctx: ActorContext<any>) => void | Promise<void>
  onSignal?: (state: S, signal: Signal, ctx: ActorContext<any>) => void | Promise<void>
  supervision?: SupervisionStrategy
  mailbox?: MailboxOptions
  stashCapacity?: number
}

type Handler<S> = (state: S, payload: any, ctx: ActorContext<any>) => unknown

type PayloadParams<F> = F extends (state: any, ...rest: infer A) => any
  ? A extends []
    ? []
    : A extends [infer X, ...any[]]
      ? [payload: X]
      : A extends [(infer X)?, ...any[]]
        ? [payload?: X]
        : []
  : never

/** The protocol a handler table implements: each handler minus its state and ctx parameters. */
export type ProtocolOf<H> = {
  [K in keyof H]: (...args: PayloadParams<H[K]>) => H[K] extends (...args: any[]) => infer R ? Awaited<R> : never
}

/**
 * Defines an actor by a table of handlers, one per message type. Handler
 * parameter types become the protocol, so wrong names and payloads are
 * compile errors at `tell`/`ask` sites; a handler's return value answers `ask`.
 */
export function defineActor<S, H extends Record<string, Handler<S>>>(
  spec: { name?: string; initial: (ctx: ActorContext<any>) => S; handlers: H } & Hooks<S>,
): ActorDef<ProtocolOf<H>, S> {
  const table = new Map<string, Handler<S>>(Object.entries(spec.handlers))
  const kind = spec.name ?? 'actor'
  return {
    ...hooks(spec),
    kind,
    initial: spec.initial,
    receive(state, msg, ctx) {
      const handler = table.get(msg.type)
      if (handler === undefined) {
        throw new TroupeError('UNKNOWN_MESSAGE', `actor kind '${kind}' has no handler for '${String(msg.type)}'`)
      }
      return handler(state, msg.payload, ctx)
    },
  }
}

/**
 * The low-level form: one `receive` that gets every message as `{ type, payload }`
 * with the context. Its return value answers `ask`.
 */
export function defineBehavior<P extends Protocol, S = undefined>(
  spec: {
    name?: string
    initial?: (ctx: ActorContext<P>) => S
    receive: (state: S, msg: Message<P>, ctx: ActorContext<P>) => unknown
  } & Hooks<S>,
): ActorDef<P, S> {
  return {
    ...hooks(spec),
    kind: spec.name ?? 'behavior',
    initial: spec.initial ?? (() => undefined as S),
    receive: spec.receive as unknown as ActorDef<P, S>['receive'],
  }
}

function hooks<S>(spec: Hooks<S>): Hooks<S> {
  const out: Hooks<S> = {}
  if (spec.onStart) out.onStart = spec.onStart
  if (spec.onStop) out.onStop = spec.onStop
  if (spec.onSignal) out.onSignal = spec.onSignal
  if (spec.supervision) out.supervision = spec.supervision
  if (spec.mailbox) out.mailbox = spec.mailbox
  if (spec.stashCapacity !== undefined) out.stashCapacity = spec.stashCapacity
  return out
}
