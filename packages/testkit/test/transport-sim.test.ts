import { ActorSystem } from '@troupe/runtime'
import { transportConformance } from '../src/conformance/transport-suite.js'
import { SimWorld } from '../src/sim/sim-world.js'

// Virtual time: the world runs only while the suite waits or settles.
transportConformance('SimNetwork', async (names) => {
  const world = new SimWorld({ seed: 11, network: { latencyMs: { min: 1, max: 20 } } })
  for (const name of names) {
    world.addNode(name, async (env) => {
      const system = new ActorSystem({ ...env.system, askTimeoutMs: 1000 })
      await system.start()
      return { system }
    })
  }
  await world.waitUntilUp(100)
  const systems = Object.fromEntries(names.map((n) => [n, world.node(n).system]))
  return {
    systems,
    partition: (a, b) => void world.network.partition(a, b),
    heal: () => world.network.heal(),
    wait: (ms) => world.runFor(ms),
    settle: (promise, maxMs) => world.waitFor(promise, maxMs),
    async close() {
      world.dispose()
    },
  }
}).run()
