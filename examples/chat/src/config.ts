// A chat node's settings, from command-line flags or environment variables
// (flags win). See the README for a multi-machine example.
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { MIN_ROOM_TTL_MS, ROOM_TTL_MS } from './limits.js'

export interface ChatNodeConfig {
  /** Node name, unique in the cluster (the actor system's name). */
  name: string
  /** Address both listeners bind to. */
  host: string
  /** Host name other nodes and browsers use to reach this node (default: host). */
  advertise: string
  /** Port of the cluster transport (node-to-node WebSocket). */
  port: number
  /** Port of the page and the browsers' WebSocket. */
  httpPort: number
  /** Seed nodes: the same list, in the same order, on every node (null: this node alone). */
  seeds: Array<{ node: string; address: string }> | null
  /** Founding members of the history Raft group (default: the seed names). */
  historyMembers: string[]
  /** Where this node keeps its write-ahead log. */
  dataDir: string
  /** Cluster secret (at least 16 bytes), the same on every node. */
  secret: string
  /** True when the secret is the built-in one for local development. */
  devSecret: boolean
  /** Rooms this node creates expire this long after their last activity (ms). */
  roomTtlMs: number
}

export const DEV_SECRET = 'troupe-chat-local-development-only'
const DEFAULT_DATA_ROOT = fileURLToPath(new URL('../.data/', import.meta.url))

const USAGE = `usage: node --conditions=source --import tsx examples/chat/src/node.ts --name a [options]
  --name a            node name (CHAT_NODE)
  --host 127.0.0.1    bind address (CHAT_HOST)
  --advertise HOST    name others reach this node by (CHAT_ADVERTISE, default: --host)
  --port 7101         cluster port (CHAT_PORT)
  --http 8101         page and browser WebSocket port (CHAT_HTTP_PORT)
  --seeds a=ws://127.0.0.1:7101,b=ws://127.0.0.1:7102
                      seed nodes, same list on every node (CHAT_SEEDS, default: this node alone)
  --history a,b,c     members of the history Raft group (CHAT_HISTORY, default: the seed names)
  --data DIR          data directory (CHAT_DATA_DIR, default examples/chat/.data/<name>)
  --room-ttl-ms 3600000
                      an empty room expires this long after its last activity (CHAT_ROOM_TTL_MS)
  secret: TROUPE_SECRET (at least 16 bytes; a built-in development secret otherwise)`

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): ChatNodeConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      name: { type: 'string' },
      host: { type: 'string' },
      advertise: { type: 'string' },
      port: { type: 'string' },
      http: { type: 'string' },
      seeds: { type: 'string' },
      history: { type: 'string' },
      data: { type: 'string' },
      'room-ttl-ms': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  })
  if (values.help) throw new ConfigError(USAGE)
  const name = values.name ?? env.CHAT_NODE
  if (!name || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new ConfigError(`--name is required (letters, digits, '.', '_', '-')\n${USAGE}`)
  const host = values.host ?? env.CHAT_HOST ?? '127.0.0.1'
  const advertise = values.advertise ?? env.CHAT_ADVERTISE ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host)
  const port = portOf(values.port ?? env.CHAT_PORT ?? '7101', '--port')
  const httpPort = portOf(values.http ?? env.CHAT_HTTP_PORT ?? '8101', '--http')
  const seedText = values.seeds ?? env.CHAT_SEEDS
  const seeds = seedText ? parseSeeds(seedText) : null
  const historyText = values.history ?? env.CHAT_HISTORY
  const historyMembers = historyText ? historyText.split(',').map((s) => s.trim()).filter(Boolean) : (seeds?.map((s) => s.node) ?? [name])
  const roomTtlText = values['room-ttl-ms'] ?? env.CHAT_ROOM_TTL_MS ?? String(ROOM_TTL_MS)
  const roomTtlMs = Number(roomTtlText)
  if (!Number.isSafeInteger(roomTtlMs) || roomTtlMs < MIN_ROOM_TTL_MS) throw new ConfigError(`--room-ttl-ms must be an integer >= ${MIN_ROOM_TTL_MS}, got '${roomTtlText}'`)
  const secret = env.TROUPE_SECRET ?? DEV_SECRET
  if (Buffer.byteLength(secret) < 16) throw new ConfigError('TROUPE_SECRET must be at least 16 bytes')
  return {
    name,
    host,
    advertise,
    port,
    httpPort,
    seeds,
    historyMembers,
    dataDir: values.data ?? env.CHAT_DATA_DIR ?? `${DEFAULT_DATA_ROOT}${name}`,
    secret,
    devSecret: env.TROUPE_SECRET === undefined,
    roomTtlMs,
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
