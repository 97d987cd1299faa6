// An inventory node's settings, from command-line flags or environment
// variables (flags win). See the README for a multi-machine example.
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'

export interface InventoryNodeConfig {
  /** Node name, unique in the cluster (the actor system's name). */
  name: string
  /** Address both listeners bind to. */
  host: string
  /** Host name other nodes and browsers use to reach this node (default: host). */
  advertise: string
  /** Port of the cluster transport (node-to-node WebSocket). */
  port: number
  /** Port of the HTTP API and the dashboard. */
  httpPort: number
  /** Seed nodes: the same list, in the same order, on every node (null: this node alone). */
  seeds: Array<{ node: string; address: string }> | null
  /** Members of every Raft group (stock, payments, saga log, leases; default: the seed names). */
  members: string[]
  /** Where this node keeps its write-ahead log. */
  dataDir: string
  /** Cluster secret (at least 16 bytes), the same on every node. */
  secret: string
  /** True when the secret is the built-in one for local development. */
  devSecret: boolean
  /** Period of the restock job while this node leads (a "night", shortened for the demo). */
  restockEveryMs: number
}

export const DEV_SECRET = 'troupe-inventory-local-development-only'
const DEFAULT_DATA_ROOT = fileURLToPath(new URL('../.data/', import.meta.url))

const USAGE = `usage: node --conditions=source --import tsx examples/inventory/src/node.ts --name a [options]
  --name a            node name (INVENTORY_NODE)
  --host 127.0.0.1    bind address (INVENTORY_HOST)
  --advertise HOST    name others reach this node by (INVENTORY_ADVERTISE, default: --host)
  --port 7201         cluster port (INVENTORY_PORT)
  --http 8201         HTTP API and dashboard port (INVENTORY_HTTP_PORT)
  --seeds a=ws://127.0.0.1:7201,b=ws://127.0.0.1:7202
                      seed nodes, same list on every node (INVENTORY_SEEDS, default: this node alone)
  --members a,b,c     members of the Raft groups (INVENTORY_MEMBERS, default: the seed names)
  --data DIR          data directory (INVENTORY_DATA_DIR, default examples/inventory/.data/<name>)
  --restock-ms 30000  restock job period while leading (INVENTORY_RESTOCK_MS)
  secret: TROUPE_SECRET (at least 16 bytes; a built-in development secret otherwise)`

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): InventoryNodeConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      name: { type: 'string' },
      host: { type: 'string' },
      advertise: { type: 'string' },
      port: { type: 'string' },
      http: { type: 'string' },
      seeds: { type: 'string' },
      members: { type: 'string' },
      data: { type: 'string' },
      'restock-ms': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  })
  if (values.help) throw new ConfigError(USAGE)
  const name = values.name ?? env.INVENTORY_NODE
  if (!name || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new ConfigError(`--name is required (letters, digits, '.', '_', '-')\n${USAGE}`)
  const host = values.host ?? env.INVENTORY_HOST ?? '127.0.0.1'
  const advertise = values.advertise ?? env.INVENTORY_ADVERTISE ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host)
  const port = portOf(values.port ?? env.INVENTORY_PORT ?? '7201', '--port')
  const httpPort = portOf(values.http ?? env.INVENTORY_HTTP_PORT ?? '8201', '--http')
  const seedText = values.seeds ?? env.INVENTORY_SEEDS
  const seeds = seedText ? parseSeeds(seedText) : null
  const membersText = values.members ?? env.INVENTORY_MEMBERS
  const members = membersText ? membersText.split(',').map((s) => s.trim()).filter(Boolean) : (seeds?.map((s) => s.node) ?? [name])
  const secret = env.TROUPE_SECRET ?? DEV_SECRET
  if (Buffer.byteLength(secret) < 16) throw new ConfigError('TROUPE_SECRET must be at least 16 bytes')
  const restockEveryMs = Number(values['restock-ms'] ?? env.INVENTORY_RESTOCK_MS ?? '30000')
  if (!(Number.isInteger(restockEveryMs) && restockEveryMs >= 100)) throw new ConfigError('--restock-ms must be an integer >= 100')
  return {
    name,
    host,
    advertise,
    port,
    httpPort,
    seeds,
    members,
    dataDir: values.data ?? env.INVENTORY_DATA_DIR ?? `${DEFAULT_DATA_ROOT}${name}`,
    secret,
    devSecret: env.TROUPE_SECRET === undefined,
    restockEveryMs,
  }
}

export class ConfigError extends Error {}

function parseSeeds(text: string): Array<{ node: string; address: string }> {
  return text.split(',').map((part) => {
    const eq = part.indexOf('=')
    if (eq <= 0) throw new ConfigError(`seed '${part}' must look like name=ws://host:port`)
    return { node: part.slice(0, eq).trim(), address: part.slice(eq + 1).trim() }
  })
}

function portOf(text: string, flag: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`${flag} must be a port number, got '${text}'`)
  return n
}

/** An IPv6 literal needs brackets inside a URL. */
export function hostPart(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}
