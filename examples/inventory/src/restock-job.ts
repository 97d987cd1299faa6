// The nightly restock as a cluster singleton: every node campaigns in the
// "nightly-restock" election of @troupe/lease; only the leader runs the job,
// every `everyMs` (a "night", shortened for the demo). Each restock command
// carries the leadership's fencing token, and the stock state machine
// refuses a token lower than the highest it has seen: a leader that was
// paused past its lease and wakes up cannot write over its successor.
import type { Clock } from '@troupe/runtime'
import type { Lease, Leases } from '@troupe/lease'
import { RESTOCK_BELOW, RESTOCK_UNITS, WAREHOUSES } from './catalog.js'
import type { Warehouse } from './catalog.js'
import type { StockGroup } from './order-saga.js'
import type { StockView } from './stock.js'

export const RESTOCK_ELECTION = 'nightly-restock'
const LEADERSHIP_TTL_MS = 3000
const RETRY_MS = 1000
const STOCK_TIMEOUT_MS = 4000

export interface RestockStatus {
  leading: boolean
  token: number | null
  runs: number
  restockedUnits: number
  lastRunAtMs: number | null
  lastError: string | null
}

export class RestockJob {
  private stopped = false
  private readonly abort = new AbortController()
  private lease: Lease | null = null
  private loop: Promise<void> | null = null
  private readonly state: RestockStatus = { leading: false, token: null, runs: 0, restockedUnits: 0, lastRunAtMs: null, lastError: null }

  constructor(
    private readonly options: {
      node: string
      leases: Leases
      stock: (w: Warehouse) => StockGroup
      everyMs: number
      /** The node's clock (`system.clock`): the waits between rounds and the time of the last run. */
      clock: Clock
      log: (line: string) => void
    },
  ) {}

  start(): void {
    this.loop ??= this.run()
  }

  status(): RestockStatus {
    return { ...this.state, leading: this.lease?.held ?? false }
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.abort.abort()
    await this.lease?.release().catch(() => {})
    await this.loop
  }

  private async run(): Promise<void> {
    const { leases, node, log } = this.options
    while (!this.stopped) {
      let lease: Lease
      try {
        lease = await leases.campaign(RESTOCK_ELECTION, node, { ttlMs: LEADERSHIP_TTL_MS, signal: this.abort.signal })
      } catch (err) {
        if (!this.stopped) this.state.lastError = `campaign: ${String((err as Error)?.message ?? err)}`
        await sleep(this.options.clock, RETRY_MS, this.abort.signal)
        continue
      }
      this.lease = lease
      this.state.token = lease.token
      log(`restock: leading with token ${lease.token}`)
      while (!this.stopped && lease.held) {
        await this.runOnce(lease).catch((err: unknown) => {
          this.state.lastError = String((err as Error)?.message ?? err)
          log(`restock: run failed: ${this.state.lastError}`)
        })
        await sleep(this.options.clock, this.options.everyMs, AbortSignal.any([this.abort.signal, lease.signal]))
      }
      if (!this.stopped) log('restock: leadership lost; campaigning again')
      this.lease = null
      await lease.release().catch(() => {})
    }
  }

  /** One night's job: top up every SKU that runs low, in every warehouse. */
  private async runOnce(lease: Lease): Promise<void> {
    const run = ++this.state.runs
    for (const w of WAREHOUSES) {
      const group = this.options.stock(w)
      const view = (await group.read({ op: 'stock' }, { timeoutMs: STOCK_TIMEOUT_MS })) as StockView
      for (const [sku, counts] of Object.entries(view.skus)) {
        if (counts.available >= RESTOCK_BELOW) continue
        lease.check() // gives up before writing if the lease may be gone; the token fences the rest
        await group.propose({ op: 'restock', key: `restock/${lease.token}/${run}/${sku}`, sku, qty: RESTOCK_UNITS, token: lease.token }, { timeoutMs: STOCK_TIMEOUT_MS })
        this.state.restockedUnits += RESTOCK_UNITS
      }
    }
    this.state.lastRunAtMs = this.options.clock.now()
    this.state.lastError = null
  }
}

/** Waits `ms` on `clock`, or less if `signal` aborts. */
function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = clock.setTimer(ms, done)
    function done(): void {
      clock.clearTimer(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
