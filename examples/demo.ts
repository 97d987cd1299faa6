// `pnpm demo`: a local 3-node cluster on loopback for each example app, on
// embedded defaults (data under each example's .data/ folder, no external
// services), run by one LocalCluster per app in this process. Prints the
// URLs; stdin takes `kill <app> <node>`, `start <app> <node>` and
// `status [app]`; Ctrl-C stops everything cleanly.
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { ClusterSet, LocalCluster } from './local-cluster.js'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

const APPS = [
  { app: 'chat', entry: here('./chat/src/node.ts'), basePort: 7101, baseHttp: 8101, dataRoot: here('./chat/.data/') },
  { app: 'inventory', entry: here('./inventory/src/node.ts'), basePort: 7201, baseHttp: 8201, dataRoot: here('./inventory/.data/') },
].filter((app) => existsSync(app.entry))

if (APPS.length === 0) {
  console.log('[demo] no example apps found; running the in-process actor demo instead')
  await import('./actors-demo.js')
} else {
  const clusters = new ClusterSet(new Map(APPS.map((app) => [app.app, new LocalCluster({ ...app, out: (line) => console.log(`[${app.app}] ${line}`) })])))
  clusters.startAll()
  console.log(`[demo] ${clusters.help}; Ctrl-C stops everything`)
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    console.log('\n[demo] stopping...')
    await clusters.stop()
    console.log('[demo] all nodes stopped')
    process.exit(0)
  }
  process.on('SIGINT', () => void stop())
  process.on('SIGTERM', () => void stop())
  // When stdin ends (no terminal), the clusters keep running until a signal.
  createInterface({ input: process.stdin }).on('line', (line) => {
    const words = line.trim().split(/\s+/).filter(Boolean)
    if (words.length > 0 && !stopping) console.log(`[demo] ${clusters.command(words).replace(/\n/g, '\n[demo] ')}`)
  })
}
