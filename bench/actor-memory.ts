// Bytes per idle actor with 1,000,000 actors spawned, and the time to spawn
// (and start) them. Run with --expose-gc for exact heap figures.
import { ActorSystem, defineActor } from '@troupe/runtime'
import { nowMs } from './lib.js'
import type { Figure } from './lib.js'

const N = 1_000_000
const Idle = defineActor({ initial: () => ({ count: 0 }), handlers: { add: (s, by: number) => void (s.count += by), get: (s) => s.count } })

const gc = (globalThis as { gc?: () => void }).gc
const heap = () => {
  gc?.()
  gc?.()
  return process.memoryUsage().heapUsed
}

export async function run(): Promise<Figure[]> {
  const system = new ActorSystem()
  const before = heap()
  const t0 = nowMs()
  const refs = new Array(N)
  for (let i = 0; i < N; i++) refs[i] = system.spawn(Idle)
  // Every actor has run its start turn once this resolves.
  await refs[N - 1].ask('get')
  const spawnMs = nowMs() - t0
  const bytes = (heap() - before) / N
  // Prove they are live actors, not placeholders.
  refs[123_456].tell('add', 2)
  if ((await refs[123_456].ask('get')) !== 2) throw new Error('actor did not answer')
  await system.terminate()
  return [
    { bench: 'actor-memory', metric: 'bytes per idle actor', value: bytes, unit: 'B', kind: 'size', baseline: null, baselineValue: null },
    { bench: 'actor-memory', metric: 'spawn 1M actors', value: spawnMs, unit: 'ms', kind: 'latency', baseline: null, baselineValue: null },
  ]
}
