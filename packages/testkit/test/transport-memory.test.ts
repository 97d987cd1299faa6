import { ActorSystem, MemoryNetwork } from '@troupe/runtime'
import { transportConformance } from '../src/conformance/transport-suite.js'

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

// Real time: ask timeouts run on the real clock, frames move as microtasks.
transportConformance('MemoryNetwork', async (names) => {
  const net = new MemoryNetwork()
  const systems: Record<string, ActorSystem> = {}
  for (const name of names) {
    systems[name] = new ActorSystem({ name, transport: net.transport(), askTimeoutMs: 1000 })
    await systems[name].start()
  }
  return {
    systems,
    partition(a, b) {
      for (const x of a) for (const y of b) net.partition(x, y)
    },
    heal: () => net.heal(),
    wait: sleep,
    settle: (promise) => promise,
    async close() {
      await Promise.all(Object.values(systems).map((s) => s.terminate()))
    },
  }
}).run()
