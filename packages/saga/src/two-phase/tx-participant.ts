import type { ActorContext, ActorDef } from '@troupe/runtime'
import { defineActor } from '@troupe/runtime'
import type { PrepareRequest, TxCoordinatorProtocol, TxDecision, TxVote } from './tx-protocol.js'
import { TX_COORDINATOR_PATH } from './tx-protocol.js'

export interface TxParticipantSpec<S, Op> {
  name?: string
  initial: () => S
  /**
   * Checks and holds the resources for `op` (locks, reservations) without
   * making the change visible; true votes yes. After a yes the participant
   * must be able to commit. A throw votes no.
   */
  prepare(state: S, op: Op, txId: string): boolean
  /** Makes a prepared `op` visible. Must not fail. */
  commit(state: S, op: Op, txId: string): void
  /** Releases what `prepare` held. */
  abort(state: S, op: Op, txId: string): void
  /** A prepared transaction without a decision asks the coordinators after this long, and again at this interval (default 1000 ms). */
  inquireAfterMs?: number
  /** Decisions remembered to answer duplicates and refuse late prepares (default 10,000). */
  maxRemembered?: number
  /** Most prepared transactions at once; more prepares vote no (default 10,000). */
  maxPrepared?: number
  /** Extra handlers (reads of the state); they get the user state. */
  handlers?: Record<string, (state: S, payload: any, ctx: ActorContext<any>) => unknown>
}

interface Prepared<Op> {
  op: Op
  coordinators: string[]
  sinceMs: number
  asked: number
}

/** @internal the actor's state: the user's, plus the transaction bookkeeping. */
export interface TxParticipantState<S, Op> {
  user: S
  prepared: Map<string, Prepared<Op>>
  decided: Map<string, TxDecision>
}

/**
 * A two-phase participant as an actor: answers prepare/commit/abort,
 * deduplicates repeated and reordered messages (an abort that arrives
 * before its prepare makes the prepare vote no), and asks the coordinators
 * for the outcome of a transaction it holds prepared longer than
 * `inquireAfterMs`: it never decides alone after voting yes.
 *
 * The bookkeeping lives in the actor's memory: a participant whose prepared
 * state must survive its own crash has to persist it before voting yes.
 */
export function defineTxParticipant<S, Op>(spec: TxParticipantSpec<S, Op>): ActorDef<any, TxParticipantState<S, Op>> {
  const inquireAfterMs = spec.inquireAfterMs ?? 1000
  const maxRemembered = spec.maxRemembered ?? 10_000
  const maxPrepared = spec.maxPrepared ?? 10_000
  const remember = (s: TxParticipantState<S, Op>, txId: string, d: TxDecision) => {
    s.decided.delete(txId)
    s.decided.set(txId, d)
    while (s.decided.size > maxRemembered) s.decided.delete(s.decided.keys().next().value as string)
  }
  const finish = (s: TxParticipantState<S, Op>, txId: string, d: TxDecision) => {
    const p = s.prepared.get(txId)
    if (p) {
      s.prepared.delete(txId)
      if (d === 'commit') spec.commit(s.user, p.op, txId)
      else spec.abort(s.user, p.op, txId)
    }
    if (!s.decided.has(txId)) remember(s, txId, d)
    return 'ack' as const
  }
  const extra = Object.fromEntries(
    Object.entries(spec.handlers ?? {}).map(([name, h]) => [name, (s: TxParticipantState<S, Op>, payload: unknown, ctx: ActorContext<any>) => h(s.user, payload, ctx)]),
  )
  return defineActor({
    name: spec.name ?? 'tx-participant',
    initial: (): TxParticipantState<S, Op> => ({ user: spec.initial(), prepared: new Map(), decided: new Map() }),
    handlers: {
      ...extra,
      prepare(s: TxParticipantState<S, Op>, req: PrepareRequest<Op>, ctx: ActorContext<any>): TxVote {
        const known = s.decided.get(req.txId)
        if (known) return known === 'commit' ? 'yes' : 'no'
        if (s.prepared.has(req.txId)) return 'yes'
        if (s.prepared.size >= maxPrepared) return 'no'
        let yes = false
        try {
          yes = spec.prepare(s.user, req.op, req.txId)
        } catch {
          yes = false
        }
        if (!yes) {
          remember(s, req.txId, 'abort')
          return 'no'
        }
        s.prepared.set(req.txId, { op: req.op, coordinators: req.coordinators, sinceMs: ctx.system.clock.now(), asked: 0 })
        if (!ctx.timers.isActive('inquire')) ctx.timers.startPeriodic('inquire', inquireAfterMs, 'inquire', undefined)
        return 'yes'
      },
      commit: (s: TxParticipantState<S, Op>, req: { txId: string }) => finish(s, req.txId, 'commit'),
      abort: (s: TxParticipantState<S, Op>, req: { txId: string }) => finish(s, req.txId, 'abort'),
      /** Timer: ask about every transaction held prepared too long (at most 256 questions per round). */
      inquire(s: TxParticipantState<S, Op>, _: void, ctx: ActorContext<any>) {
        if (s.prepared.size === 0) return ctx.timers.cancel('inquire')
        const now = ctx.system.clock.now()
        let asked = 0
        for (const [txId, p] of s.prepared) {
          if (now - p.sinceMs < inquireAfterMs || p.coordinators.length === 0) continue
          if (++asked > 256) break
          const node = p.coordinators[p.asked++ % p.coordinators.length]
          const coordinator = ctx.system.remoteRef<TxCoordinatorProtocol>(node, TX_COORDINATOR_PATH)
          const self = ctx.self
          coordinator.ask('outcome', { txId }, { timeoutMs: inquireAfterMs }).then(
            (d) => self.tell(d === 'commit' ? 'commit' : 'abort', { txId }),
            () => undefined, // asked again next round
          )
        }
      },
    },
  })
}
