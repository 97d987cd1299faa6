// The saga the saga benchmarks run: three steps, each an ask to a local
// participant actor that deduplicates on the step's idempotency key.
import { defineActor } from '@troupe/runtime'
import type { ActorSystem } from '@troupe/runtime'
import { IdempotencyStore, saga } from '@troupe/saga'
import { nowMs, percentile } from './lib.js'

const Participant = defineActor({
  name: 'participant',
  initial: () => ({ store: new IdempotencyStore({ maxKeys: 200_000 }), applied: 0 }),
  handlers: {
    apply: (s, key: string) => s.store.dedupe(key, () => ++s.applied),
    undo: (s, key: string) => void s.store.compensate(key, () => void s.applied--),
  },
})

export function benchSaga(system: ActorSystem) {
  const p = system.spawn(Participant, { name: 'participant' })
  const step = {
    do: (_i: { n: number }, ctx: { idempotencyKey: string }) => p.ask('apply', ctx.idempotencyKey),
    undo: (_i: { n: number }, ctx: { idempotencyKey: string }) => p.ask('undo', ctx.idempotencyKey),
  }
  const def = saga<{ n: number }>('bench-order').step('reserve', step).step('charge', step).step('ship', { do: step.do, kind: 'retriable' })
  return { def }
}

/** `total` sagas with `window` running at once: sagas/s and latency percentiles (ms). */
export async function closedSagaLoop(total: number, window: number, run: (i: number) => Promise<{ status: string }>): Promise<{ rate: number; p50: number; p99: number }> {
  const lat = new Float64Array(total)
  let next = 0
  const t0 = nowMs()
  await Promise.all(
    Array.from({ length: Math.min(window, total) }, async () => {
      while (next < total) {
        const i = next++
        const s = nowMs()
        const r = await run(i)
        if (r.status !== 'completed') throw new Error(`saga ${i} ended ${r.status}`)
        lat[i] = nowMs() - s
      }
    }),
  )
  const secs = (nowMs() - t0) / 1000
  lat.sort()
  return { rate: total / secs, p50: percentile(lat, 50), p99: percentile(lat, 99) }
}
