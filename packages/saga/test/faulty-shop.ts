import type { Clock } from '@troupe/runtime'
import type { Prng } from '@troupe/testkit'
import type { ShopApi, ShopState } from './shop.js'

export interface ShopFaults {
  /** Fails before applying (a definite, retryable error). */
  transient: number
  /** Applies, but the reply is lost: the call never settles (the saga times out). */
  lostReply: number
  /** Applies after `slowMs` (beyond the step timeout): overtaken by retries and undos. */
  slow: number
  /** The request is delivered twice; the copy arrives later. */
  duplicate: number
  latencyMs: { min: number; max: number }
  slowMs: number
}

export const noFaults: ShopFaults = { transient: 0, lostReply: 0, slow: 0, duplicate: 0, latencyMs: { min: 1, max: 5 }, slowMs: 0 }

/** The shop reached through an unreliable channel on a clock: latency, loss, slowness, duplicates. */
export function faultyShop(state: ShopState, clock: Clock, prng: Prng, faults: ShopFaults): ShopApi & { calls: number } {
  const api = {
    calls: 0,
    reserve: (key: string, sku: string, qty: number) => call(() => state.reserve(key, sku, qty)),
    release: (key: string) => call(() => state.release(key)),
    charge: (key: string, customer: string, amount: number) => call(() => state.charge(key, customer, amount)),
    refund: (key: string) => call(() => state.refund(key)),
    confirm: (key: string) => call(() => state.confirm(key)),
    ship: (key: string) => call(() => state.ship(key)),
  }
  const latency = () => prng.range(faults.latencyMs.min, faults.latencyMs.max)
  const quietly = (op: () => void) => {
    try {
      op()
    } catch {
      // A duplicate or a late delivery whose answer nobody reads.
    }
  }
  function call(op: () => void): Promise<void> {
    api.calls++
    return new Promise<void>((resolve, reject) => {
      const answer = () => {
        try {
          op()
          resolve()
        } catch (err) {
          reject(err)
        }
      }
      if (prng.chance(faults.duplicate)) clock.setTimer(latency() + faults.slowMs * prng.next(), () => quietly(op))
      const r = prng.next()
      if (r < faults.transient) clock.setTimer(latency(), () => reject(new Error('participant unavailable')))
      else if (r < faults.transient + faults.lostReply) clock.setTimer(latency(), () => quietly(op))
      else if (r < faults.transient + faults.lostReply + faults.slow) clock.setTimer(faults.slowMs, answer)
      else clock.setTimer(latency(), answer)
    })
  }
  return api
}
