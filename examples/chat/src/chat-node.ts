// One chat server node on `startNode`: the node brings the transport, the
// cluster, the write-ahead log, the room lease table, pub/sub, sharding and
// the coordinated shutdown (leave first, so rooms hand off cleanly). This
// file adds what is the app's own: the history Raft group, the room entity
// guarded by a lease per room (strict single activation), and the
// browsers' gateway, whose page and WebSocket addresses the node joins with
// in its member record (the node list pages reconnect from).
import type { ActorSystem, Cluster } from '@troupe/runtime'
import type { ActivationGuard } from '@troupe/runtime'
import { startNode } from '@troupe/node'
import type { NodeLogLevel } from '@troupe/node'
import { leaseActivationGuard } from '@troupe/lease'
import type { ChatNodeConfig } from './config.js'
import { hostPart } from './config.js'
import { NodeDirectory, pageMetadata } from './directory.js'
import { Gateway } from './gateway.js'
import { HistoryMachine } from './history.js'
import { roomEntity } from './room.js'
import type { HistoryGroup } from './room.js'
import { ROOM_LEASE_TTL_MS } from './limits.js'
import { newPostLimiter, sessionActor } from './session.js'

export interface ChatNode {
  readonly name: string
  readonly system: ActorSystem
  readonly cluster: Cluster
  readonly history: HistoryGroup
  /** Where browsers load the page. */
  readonly httpUrl: string
  /** This node's cluster transport address. */
  readonly clusterUrl: string
  /** Resolves true once this node is an up member (false if it was downed first). */
  whenUp(): Promise<boolean>
  stop(): Promise<void>
}

/** How fast a dead node is noticed: about 2 s of silence, then 3 s of stable unreachability before it is downed. */
const FAILURE_DETECTION = {
  heartbeatIntervalMs: 500,
  gossipIntervalMs: 500,
  acceptableHeartbeatPauseMs: 2000,
  stableAfterMs: 3000,
  seedTimeoutMs: 2000,
}

export interface ChatNodeOptions {
  /** SIGTERM/SIGINT stop the node and exit the process; a downed node exits with code 75 (the command line's node.ts). Default false. */
  installSignalHandlers?: boolean
}

export async function startChatNode(config: ChatNodeConfig, log: (line: string) => void, options: ChatNodeOptions = {}): Promise<ChatNode> {
  // The page's port is bound first, so the node joins with its page and
  // WebSocket addresses in its member record (the directory pages use);
  // the gateway answers 503 until the node's services are attached.
  const gateway = new Gateway({ host: config.host, port: config.httpPort })
  const httpPort = (await gateway.listen()).port
  const httpHost = hostPart(config.advertise)
  const self = { name: config.name, http: `http://${httpHost}:${httpPort}`, ws: `ws://${httpHost}:${httpPort}/ws` }

  // Rooms are registered before the node joins, but the history group and
  // the lease guard exist only once startNode returned: a room's activation
  // waits for them in its guard, so no room runs without its history.
  let history: HistoryGroup | null = null
  let guard: ActivationGuard | null = null
  let appReady!: () => void
  const ready = new Promise<void>((resolve) => (appReady = resolve))
  const lazyGuard: ActivationGuard = {
    acquire: async (kind, id, signal) => {
      await ready
      return guard!.acquire(kind, id, signal)
    },
  }
  const Room = roomEntity({
    get history() {
      return history!
    },
    get pubsub() {
      return node.pubsub
    },
    roomTtlMs: config.roomTtlMs,
  })
  const node = await startNode({
    name: config.name,
    metadata: pageMetadata(self),
    listen: { host: config.host, port: config.port },
    advertise: config.advertise,
    secret: config.secret,
    ...(config.seeds ? { seeds: config.seeds } : {}),
    dataDir: config.dataDir,
    raftMembers: config.historyMembers,
    cluster: FAILURE_DETECTION,
    services: {
      pubsub: true,
      sharding: { entities: [Room], passivateAfterMs: 5 * 60_000, handoffTimeoutMs: 5000, activationGuard: lazyGuard },
      // Room leases live in their own Raft group on the history members (same WAL).
      leases: { group: 'room-leases', client: { defaultTtlMs: ROOM_LEASE_TTL_MS } },
    },
    installSignalHandlers: options.installSignalHandlers ?? false,
    log: (level: NodeLogLevel, message: string) => {
      if (level !== 'debug') log(level === 'info' ? message : `${level}: ${message}`)
    },
  }).catch(async (err: unknown) => {
    await gateway.close()
    throw err
  })
  const { system, cluster, sharding, pubsub } = node
  const isMember = config.historyMembers.includes(config.name)
  history = await node.raft.group({
    id: 'history',
    // A node outside the group gets a handle that forwards to the members.
    ...(isMember ? { stateMachine: () => new HistoryMachine() } : {}),
    snapshotEveryEntries: 2000,
    requestTimeoutMs: 5000,
  })
  guard = leaseActivationGuard(node.leases, { ttlMs: ROOM_LEASE_TTL_MS })
  appReady()
  const Session = sessionActor({ room: (name) => sharding.entity(Room, name), history, pubsub, postLimiter: newPostLimiter(), roomTtlMs: config.roomTtlMs })

  const directory = new NodeDirectory(cluster, self)
  gateway.attach({
    system,
    session: Session,
    directory,
    health: () => ({ up: cluster.upMembers(), status: cluster.status, sharding: sharding.stats() }),
  })

  cluster.on('memberUp', (m) => log(`member up: ${m.node}`))
  cluster.on('memberDown', (m) => log(`member down: ${m.node}`))
  cluster.on('memberRemoved', (m) => log(`member removed: ${m.node}`))

  // Browsers go first; the node's phases then release room leases, hand rooms off and leave.
  node.onShutdown('stop-work', 'gateway', () => gateway.close())
  let stopping: Promise<void> | null = null
  const stop = (): Promise<void> => {
    stopping ??= node.shutdown({ reason: 'stop' }).then(() => undefined)
    return stopping
  }

  return { name: config.name, system, cluster, history: history!, httpUrl: self.http, clusterUrl: node.address, whenUp: () => cluster.whenUp(), stop }
}
