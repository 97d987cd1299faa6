// One chat server node on `startNode`: the node brings the transport, the
// cluster, the write-ahead log, the room lease table, pub/sub, sharding and
// the coordinated shutdown (leave first, so rooms hand off cleanly). This
// file adds what is the app's own: the history Raft group, the room entity
// guarded by a lease per room (strict single activation), and the
// browsers' gateway.
import type { ActorSystem, Cluster } from '@troupe/runtime'
import type { ActivationGuard } from '@troupe/runtime'
import { startNode } from '@troupe/node'
import type { NodeLogLevel } from '@troupe/node'
import { leaseActivationGuard } from '@troupe/lease'
import type { ChatNodeConfig } from './config.js'
import { hostPart } from './config.js'
import { NodeDirectory } from './directory.js'
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

export async function startChatNode(config: ChatNodeConfig, log: (line: string) => void): Promise<ChatNode> {
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
    // The app's node.ts prints its own start/stop lines and maps signals.
    installSignalHandlers: false,
    log: (level: NodeLogLevel, message: string) => {
      if (level === 'warn' || level === 'error') log(message)
    },
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

  const httpHost = hostPart(config.advertise)
  const gateway = new Gateway({
    system,
    session: Session,
    host: config.host,
    port: config.httpPort,
    health: () => ({ up: cluster.upMembers(), status: cluster.status, sharding: sharding.stats() }),
  })
  const httpPort = (await gateway.listen()).port
  const httpUrl = `http://${httpHost}:${httpPort}`
  const directory = new NodeDirectory(system, cluster, { name: config.name, http: httpUrl, ws: `ws://${httpHost}:${httpPort}/ws` })
  gateway.attachDirectory(directory)

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

  return { name: config.name, system, cluster, history: history!, httpUrl, clusterUrl: node.address, whenUp: () => cluster.whenUp(), stop }
}
