// A warehouse's stock: the state machine of one Raft group per warehouse,
// replicated on every member. Per SKU it counts units available, reserved
// (held by an order in flight) and shipped, plus what the restock job added,
// so `initial + restocked = available + reserved + shipped` holds after every
// command. Commands carry idempotency keys: an order's reservation is keyed
// by its saga step key, and a retried or late command finds it.
//
// `apply` is deterministic (no clock, no I/O). A thrown error reaches the
// proposer as COMMAND_FAILED with the message, and nothing was applied; the
// message starts with a code the saga tells apart (OUT_OF_STOCK, REJECTED,
// FENCED, ...).
import type { ApplyMeta, StateMachine } from '@troupe/raft'
import { FenceGuard } from '@troupe/lease'

export type StockCommand =
  | { op: 'reserve'; key: string; sku: string; qty: number }
  | { op: 'release'; key: string }
  | { op: 'ship'; key: string }
  | { op: 'restock'; key: string; sku: string; qty: number; token: number }

export type StockQuery = { op: 'stock' } | { op: 'reservations' }

export interface SkuCounts {
  initial: number
  restocked: number
  available: number
  reserved: number
  shipped: number
}

/** A reservation's life: reserved, then shipped or released. A release that came first leaves `released` with qty 0 (a tombstone). */
export interface Reservation {
  sku: string
  qty: number
  state: 'reserved' | 'released' | 'shipped'
}

export type StockResult = { ok: true; reservation?: Reservation; counts?: SkuCounts }
export type StockView = { skus: Record<string, SkuCounts>; highestToken: number }
export type StockQueryResult = StockView | Record<string, Reservation>

/** Reservations remembered (finished ones are forgotten oldest first beyond this). */
export const MAX_RESERVATIONS = 50_000
/** Restock keys remembered for deduplication. */
export const MAX_RESTOCK_KEYS = 10_000
const MAX_QTY = 1_000_000

type SnapshotV1 = { v: 1; skus: Array<[string, SkuCounts]>; reservations: Array<[string, Reservation]>; restocks: string[]; highestToken: number }

export class StockMachine implements StateMachine<StockCommand, StockResult, StockQuery, StockQueryResult> {
  private skus = new Map<string, SkuCounts>()
  private reservations = new Map<string, Reservation>()
  private restocks = new Set<string>()
  /** The restock job's fence: the highest lease token a restock carried, kept in the replicated state. */
  private fence: FenceGuard

  constructor(
    private readonly warehouse: string,
    initial: Readonly<Record<string, number>>,
  ) {
    for (const [sku, n] of Object.entries(initial)) this.skus.set(sku, { initial: n, restocked: 0, available: n, reserved: 0, shipped: 0 })
    this.fence = new FenceGuard({ resource: `stock-${warehouse}` })
  }

  apply(c: StockCommand, _meta: ApplyMeta): StockResult {
    if (typeof c?.key !== 'string' || c.key.length === 0 || c.key.length > 500) throw new Error('INVALID: a command needs a key')
    switch (c.op) {
      case 'reserve':
        return this.reserve(c.key, c.sku, c.qty)
      case 'release':
        return this.release(c.key)
      case 'ship':
        return this.ship(c.key)
      case 'restock':
        return this.restock(c.key, c.sku, c.qty, c.token)
      default:
        throw new Error(`INVALID: unknown stock command ${String((c as { op?: unknown }).op)}`)
    }
  }

  private reserve(key: string, sku: string, qty: number): StockResult {
    const earlier = this.reservations.get(key)
    if (earlier !== undefined) {
      // A retry of a reservation that applied gets the same answer; one that
      // arrives after its release (a late duplicate) must not take stock.
      if (earlier.state === 'released') throw new Error(`REJECTED: reservation ${key} was already released`)
      return { ok: true, reservation: { ...earlier } }
    }
    const counts = this.counts(sku)
    checkQty(qty)
    if (counts.available < qty) throw new Error(`OUT_OF_STOCK: ${this.warehouse} has ${counts.available} ${sku}, ${qty} asked`)
    this.remember(key, { sku, qty, state: 'reserved' })
    counts.available -= qty
    counts.reserved += qty
    return { ok: true, reservation: { sku, qty, state: 'reserved' } }
  }

  private release(key: string): StockResult {
    const r = this.reservations.get(key)
    if (r === undefined) {
      // The reserve may still be in flight: remember the release so it is refused.
      const tombstone: Reservation = { sku: '', qty: 0, state: 'released' }
      this.remember(key, tombstone)
      return { ok: true, reservation: { ...tombstone } }
    }
    if (r.state === 'shipped') throw new Error(`REJECTED: reservation ${key} was shipped and cannot be released`)
    if (r.state === 'reserved') {
      const counts = this.counts(r.sku)
      counts.reserved -= r.qty
      counts.available += r.qty
      r.state = 'released'
    }
    return { ok: true, reservation: { ...r } }
  }

  private ship(key: string): StockResult {
    const r = this.reservations.get(key)
    if (r === undefined || r.state === 'released') throw new Error(`REJECTED: no reservation ${key} to ship`)
    if (r.state === 'reserved') {
      const counts = this.counts(r.sku)
      counts.reserved -= r.qty
      counts.shipped += r.qty
      r.state = 'shipped'
    }
    return { ok: true, reservation: { ...r } }
  }

  private restock(key: string, sku: string, qty: number, token: number): StockResult {
    // FenceGuard semantics in the replicated state: a restock from a job
    // whose leadership was superseded (lower token) is refused.
    if (!Number.isSafeInteger(token) || token <= 0) throw new Error('INVALID: a restock needs a fencing token')
    if (!this.fence.accept(token)) throw new Error(`FENCED: token ${token} is older than ${this.fence.highestToken}`)
    const counts = this.counts(sku)
    if (this.restocks.has(key)) return { ok: true, counts: { ...counts } }
    checkQty(qty)
    this.restocks.add(key)
    if (this.restocks.size > MAX_RESTOCK_KEYS) this.restocks.delete(this.restocks.values().next().value!)
    counts.available += qty
    counts.restocked += qty
    return { ok: true, counts: { ...counts } }
  }

  private counts(sku: string): SkuCounts {
    const counts = this.skus.get(sku)
    if (counts === undefined) throw new Error(`UNKNOWN_SKU: ${String(sku)}`)
    return counts
  }

  private remember(key: string, r: Reservation): void {
    if (this.reservations.size >= MAX_RESERVATIONS) {
      // Forget the oldest finished reservations; live ones are never dropped.
      for (const [k, old] of this.reservations) {
        if (this.reservations.size < MAX_RESERVATIONS) break
        if (old.state !== 'reserved') this.reservations.delete(k)
      }
      if (this.reservations.size >= MAX_RESERVATIONS) throw new Error(`OVERLOADED: ${MAX_RESERVATIONS} reservations held`)
    }
    this.reservations.set(key, r)
  }

  query(q: StockQuery): StockQueryResult {
    if (q?.op === 'stock') {
      const skus: Record<string, SkuCounts> = {}
      for (const [sku, c] of this.skus) skus[sku] = { ...c }
      return { skus, highestToken: this.fence.highestToken }
    }
    if (q?.op === 'reservations') return Object.fromEntries([...this.reservations].map(([k, r]) => [k, { ...r }]))
    throw new Error('INVALID: unknown stock query')
  }

  snapshot(): SnapshotV1 {
    return {
      v: 1,
      skus: [...this.skus].map(([sku, c]) => [sku, { ...c }]),
      reservations: [...this.reservations].map(([k, r]) => [k, { ...r }]),
      restocks: [...this.restocks],
      highestToken: this.fence.highestToken,
    }
  }

  restore(snapshot: unknown): void {
    const s = snapshot as SnapshotV1
    if (s?.v !== 1 || !Array.isArray(s.skus) || !Array.isArray(s.reservations)) throw new Error('stock snapshot: unknown format')
    this.skus = new Map(s.skus.map(([sku, c]) => [sku, { ...c }]))
    this.reservations = new Map(s.reservations.map(([k, r]) => [k, { ...r }]))
    this.restocks = new Set(s.restocks)
    this.fence = new FenceGuard({ resource: `stock-${this.warehouse}`, highestToken: s.highestToken })
  }
}

function checkQty(qty: number): void {
  if (!(Number.isSafeInteger(qty) && qty > 0 && qty <= MAX_QTY)) throw new Error(`INVALID: quantity must be an integer in 1..${MAX_QTY}`)
}
