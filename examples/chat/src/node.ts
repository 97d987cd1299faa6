// Starts one chat node:
//
//   node --conditions=source --import tsx examples/chat/src/node.ts \
//     --name a --port 7101 --http 8101 \
//     --seeds a=ws://127.0.0.1:7101,b=ws://127.0.0.1:7102,c=ws://127.0.0.1:7103
//
// (or CHAT_NODE, CHAT_PORT, ... and TROUPE_SECRET in the environment; see
// config.ts). Prints one line per event, `ready <url>` once it is an up
// member. SIGINT/SIGTERM leave the cluster and stop; if the cluster downs
// this node it exits with code 75, and a restart joins again.
import { ConfigError, parseConfig } from './config.js'
import { startChatNode } from './chat-node.js'

let config
try {
  config = parseConfig(process.argv.slice(2), process.env)
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  process.stderr.write(`${err.message}\n`)
  process.exit(2)
}
const name = config.name
const log = (line: string): void => void process.stdout.write(`[${name}] ${line}\n`)
if (config.devSecret) log('using the built-in development secret: set TROUPE_SECRET on every node outside your own machine')

// SIGINT/SIGTERM run the node's coordinated shutdown and exit 0; a node the
// cluster downed shuts down and exits with 75 (startNode's signal handlers).
const node = await startChatNode(config, log, { installSignalHandlers: true })
log(`listening: page ${node.httpUrl}, cluster ${node.clusterUrl}, data ${config.dataDir}`)

if (await node.whenUp()) log(`ready ${node.httpUrl} members=${node.cluster.upMembers().join(',')}`)
