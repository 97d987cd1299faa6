// pnpm bench [name ...] [--json]: runs the named benchmarks (all by default).
import { report } from './lib.js'
import type { Figure } from './lib.js'

const benches: Record<string, () => Promise<Figure[]>> = {
  'local-tell': async () => (await import('./local-tell.js')).run(),
  'local-ask': async () => (await import('./local-ask.js')).run(),
  'actor-memory': async () => (await import('./actor-memory.js')).run(),
  'remote-tell': async () => (await import('./remote-tell.js')).run(),
  'remote-ask': async () => (await import('./remote-ask.js')).run(),
  'entity-rebalance': async () => (await import('./entity-rebalance.js')).run(),
  lease: async () => (await import('./lease.js')).run(),
  saga: async () => (await import('./saga.js')).run(),
  'raft-put': async () => (await import('./raft-put.js')).run(),
  'raft-failover': async () => (await import('./raft-failover.js')).run(),
  'raft-idle': async () => (await import('./raft-idle.js')).run(),
  flood: async () => (await import('./flood.js')).run(),
}

const args = process.argv.slice(2)
const json = args.includes('--json')
const names = args.filter((a) => !a.startsWith('--'))
const unknown = names.filter((n) => !(n in benches))
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}`)
  process.exit(2)
}
for (const name of names.length ? names : Object.keys(benches)) {
  if (!json) console.log(`\n# ${name}`)
  report(await benches[name](), json)
}
process.exit(0)
