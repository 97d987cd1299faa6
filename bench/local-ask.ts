// Ask round trips per second with 1 and 64 outstanding, against the same
// request/response over a minimal array mailbox (one microtask drain), in the same run.
import { ActorSystem, defineActor } from '@troupe/runtime'
import { closedLoop, median } from './lib.js'
import type { Figure } from './lib.js'

const Echo = defineActor({ initial: () => ({ n: 0 }), handlers: { echo: (state, x: number) => (state.n++, x) } })

/** The baseline: what a request/response costs through a bare array mailbox and a promise. */
class MiniActor {
  private q: Array<[number, (v: number) => void]> = []
  private scheduled = false
  ask(x: number): Promise<number> {
    return new Promise((resolve) => {
      this.q.push([x, resolve])
      if (!this.scheduled) {
        this.scheduled = true
        queueMicrotask(() => this.drain())
      }
    })
  }
  private drain(): void {
    const q = this.q
    this.q = []
    this.scheduled = false
    for (const [x, resolve] of q) resolve(x)
  }
}

async function trialsOf(fn: () => Promise<{ rate: number; p50: number; p99: number }>) {
  await fn()
  const runs = [await fn(), await fn(), await fn()]
  return { rate: median(runs.map((r) => r.rate)), p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)) }
}

export async function run(): Promise<Figure[]> {
  const figures: Figure[] = []
  const system = new ActorSystem()
  const echo = system.spawn(Echo)
  for (const window of [1, 64]) {
    const total = window === 1 ? 300_000 : 1_000_000
    const mini = new MiniActor()
    const base = await trialsOf(() => closedLoop(total, window, (i) => mini.ask(i)))
    const ours = await trialsOf(() => closedLoop(total, window, (i) => echo.ask('echo', i)))
    const baseline = `promise over a bare array mailbox, ${window} outstanding`
    figures.push({ bench: 'local-ask', metric: `round trips (${window} outstanding)`, value: ours.rate, unit: 'req/s', kind: 'rate', baseline, baselineValue: base.rate })
    figures.push({ bench: 'local-ask', metric: `p99 (${window} outstanding)`, value: ours.p99, unit: 'ms', kind: 'latency', baseline, baselineValue: base.p99 })
  }
  await system.terminate()
  return figures
}
