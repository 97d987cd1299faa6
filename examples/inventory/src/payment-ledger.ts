// The simulated payment provider's books: a state machine on the "payments"
// Raft group, so a charge survives the crash of whichever node took it and
// the invariant test can audit it. Charges are keyed by the saga step's
// idempotency key: a repeated charge is answered from the ledger, a refund
// of a charge never seen leaves a tombstone that refuses the late charge.
// The provider's behaviour (the mode the API sets) lives here too, so every
// node's payment actor acts the same.
import type { ApplyMeta, StateMachine } from '@troupe/raft'

export const PAYMENT_MODES = ['ok', 'fail', 'timeout', 'slow'] as const
export type PaymentMode = (typeof PAYMENT_MODES)[number]

export type LedgerCommand =
  | { op: 'charge'; key: string; amountCents: number }
  | { op: 'refund'; key: string }
  | { op: 'decline'; key: string }
  | { op: 'mode'; mode: PaymentMode }

export type LedgerQuery = { op: 'mode' } | { op: 'charges' } | { op: 'totals' }

export interface Charge {
  amountCents: number
  /** charged; refunded (also a tombstone with amount 0 when the refund came first); declined. */
  state: 'charged' | 'refunded' | 'declined'
}

export type LedgerResult = { ok: true; charge?: Charge; mode?: PaymentMode }
export type LedgerTotals = { chargedCents: number; refundedCents: number; charges: number }

/** Charges remembered; finished ones beyond it are forgotten oldest first. */
export const MAX_CHARGES = 50_000
const MAX_AMOUNT_CENTS = 100_000_000

type SnapshotV1 = { v: 1; mode: PaymentMode; charges: Array<[string, Charge]>; totals: LedgerTotals }

export function isPaymentMode(x: unknown): x is PaymentMode {
  return typeof x === 'string' && (PAYMENT_MODES as readonly string[]).includes(x)
}

export class PaymentLedger implements StateMachine<LedgerCommand, LedgerResult, LedgerQuery, unknown> {
  private mode: PaymentMode = 'ok'
  private charges = new Map<string, Charge>()
  private totals: LedgerTotals = { chargedCents: 0, refundedCents: 0, charges: 0 }

  apply(c: LedgerCommand, _meta: ApplyMeta): LedgerResult {
    if (c?.op === 'mode') {
      if (!isPaymentMode(c.mode)) throw new Error('INVALID: unknown payment mode')
      this.mode = c.mode
      return { ok: true, mode: c.mode }
    }
    if (typeof c?.key !== 'string' || c.key.length === 0 || c.key.length > 500) throw new Error('INVALID: a payment command needs a key')
    const earlier = this.charges.get(c.key)
    switch (c.op) {
      case 'charge': {
        if (earlier?.state === 'charged') return { ok: true, charge: { ...earlier } }
        if (earlier !== undefined) throw new Error(`REJECTED: payment ${c.key} was already ${earlier.state}`)
        if (!(Number.isSafeInteger(c.amountCents) && c.amountCents > 0 && c.amountCents <= MAX_AMOUNT_CENTS)) throw new Error('INVALID: bad amount')
        const charge: Charge = { amountCents: c.amountCents, state: 'charged' }
        this.remember(c.key, charge)
        this.totals.chargedCents += c.amountCents
        this.totals.charges++
        return { ok: true, charge: { ...charge } }
      }
      case 'decline': {
        // A declined card: recorded so a retry is declined the same way.
        if (earlier !== undefined) return { ok: true, charge: { ...earlier } }
        const charge: Charge = { amountCents: 0, state: 'declined' }
        this.remember(c.key, charge)
        return { ok: true, charge: { ...charge } }
      }
      case 'refund': {
        if (earlier === undefined) {
          const tombstone: Charge = { amountCents: 0, state: 'refunded' }
          this.remember(c.key, tombstone)
          return { ok: true, charge: { ...tombstone } }
        }
        if (earlier.state === 'charged') {
          earlier.state = 'refunded'
          this.totals.refundedCents += earlier.amountCents
        }
        return { ok: true, charge: { ...earlier } }
      }
      default:
        throw new Error(`INVALID: unknown payment command ${String((c as { op?: unknown }).op)}`)
    }
  }

  private remember(key: string, charge: Charge): void {
    if (this.charges.size >= MAX_CHARGES) {
      for (const [k, old] of this.charges) {
        if (this.charges.size < MAX_CHARGES) break
        if (old.state !== 'charged') this.charges.delete(k)
      }
      if (this.charges.size >= MAX_CHARGES) throw new Error(`OVERLOADED: ${MAX_CHARGES} open charges`)
    }
    this.charges.set(key, charge)
  }

  query(q: LedgerQuery): unknown {
    if (q?.op === 'mode') return this.mode
    if (q?.op === 'totals') return { ...this.totals }
    if (q?.op === 'charges') return Object.fromEntries([...this.charges].map(([k, c]) => [k, { ...c }]))
    throw new Error('INVALID: unknown payment query')
  }

  snapshot(): SnapshotV1 {
    return { v: 1, mode: this.mode, charges: [...this.charges].map(([k, c]) => [k, { ...c }]), totals: { ...this.totals } }
  }

  restore(snapshot: unknown): void {
    const s = snapshot as SnapshotV1
    if (s?.v !== 1 || !Array.isArray(s.charges)) throw new Error('payment snapshot: unknown format')
    this.mode = s.mode
    this.charges = new Map(s.charges.map(([k, c]) => [k, { ...c }]))
    this.totals = { ...s.totals }
  }
}
