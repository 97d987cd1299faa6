// The simulated payment provider as an actor, one per node at /user/payment.
// It behaves as the replicated mode says: `ok` charges at once, `slow`
// charges after SLOW_MS, `fail` declines, `timeout` charges but never
// answers (the worst case for a caller: the money moved, the reply was
// lost). Charges and refunds go to the ledger keyed by the caller's
// idempotency key, so retries and late duplicates apply once.
//
// Replies are deferred so a slow or silent charge does not hold up the
// actor's mailbox (handlers are turn-based).
import { defineActor } from '@troupe/runtime'
import type { Clock } from '@troupe/runtime'
import type { RaftGroup } from '@troupe/raft'
import type { Charge, LedgerCommand, LedgerQuery, LedgerResult, PaymentMode } from './payment-ledger.js'

export type LedgerGroup = RaftGroup<LedgerCommand, LedgerResult, LedgerQuery, unknown>

export const PAYMENT_PATH = '/user/payment'
/** How long a `slow` provider takes to answer (under the charge step's timeout). */
export const SLOW_MS = 1200
/** How long the ledger may take per command. */
const LEDGER_TIMEOUT_MS = 4000
/** Calls being worked on at once; more are refused (the caller retries). */
const MAX_IN_FLIGHT = 1024

export type PaymentProtocol = {
  charge(p: { key: string; amountCents: number }): Promise<Charge>
  refund(p: { key: string }): Promise<Charge>
}

export function paymentService(ledger: LedgerGroup) {
  return defineActor({
    name: 'payment',
    initial: () => ({ inFlight: 0 }),
    handlers: {
      charge(s, p: { key: string; amountCents: number }, ctx) {
        const reply = ctx.deferReply<Charge>()
        if (s.inFlight >= MAX_IN_FLIGHT) return reply.reject(new Error('BUSY: the payment provider is overloaded'))
        s.inFlight++
        void (async () => {
          const mode = (await ledger.read({ op: 'mode' }, { timeoutMs: LEDGER_TIMEOUT_MS })) as PaymentMode
          if (mode === 'fail') {
            const r = await ledger.propose({ op: 'decline', key: p.key }, { timeoutMs: LEDGER_TIMEOUT_MS })
            // A charge that went through before the mode changed stays charged.
            if (r.charge?.state === 'charged') return reply.resolve(r.charge)
            return reply.reject(new Error(`DECLINED: card declined for ${p.key}`))
          }
          if (mode === 'slow') await sleep(ctx.system.clock, SLOW_MS)
          const r = await ledger.propose({ op: 'charge', key: p.key, amountCents: p.amountCents }, { timeoutMs: LEDGER_TIMEOUT_MS })
          if (mode === 'timeout') return // charged, and the answer is "lost"
          reply.resolve(r.charge!)
        })()
          .catch((err: unknown) => reply.reject(err))
          .finally(() => void s.inFlight--)
      },
      refund(s, p: { key: string }, ctx) {
        const reply = ctx.deferReply<Charge>()
        if (s.inFlight >= MAX_IN_FLIGHT) return reply.reject(new Error('BUSY: the payment provider is overloaded'))
        s.inFlight++
        // Refunds always go through (slowly if the provider is slow): a
        // compensation must be able to finish.
        void (async () => {
          const mode = (await ledger.read({ op: 'mode' }, { timeoutMs: LEDGER_TIMEOUT_MS })) as PaymentMode
          if (mode === 'slow') await sleep(ctx.system.clock, SLOW_MS)
          const r = await ledger.propose({ op: 'refund', key: p.key }, { timeoutMs: LEDGER_TIMEOUT_MS })
          reply.resolve(r.charge!)
        })()
          .catch((err: unknown) => reply.reject(err))
          .finally(() => void s.inFlight--)
      },
    },
  })
}

/** Waits on the node's clock (virtual under the simulator). */
function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => void clock.setTimer(ms, resolve))
}
