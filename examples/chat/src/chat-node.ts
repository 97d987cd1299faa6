// One chat server node: an actor system on the WebSocket transport, a
// cluster member, the history Raft group, a lease group (one lease per
// active room: strict single activation), pub/sub, sharded rooms, and the
// browsers' gateway. `startChatNode` wires them; `stop` takes them down in
// the reverse order, leaving the cluster first so rooms hand off cleanly.
import { ActorSystem, Cluster, NodeDisk, PubSub, Sharding, WebSocketTransport } from '@troupe/runtime'
import { WriteAheadLog, group } from '@troupe/raft'
import { Leases, leaseActivationGuard, openLeaseGroup } from '@troupe/lease'
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
/** How long a graceful stop waits for the cluster to let this node go. */
const LEAVE_TIMEOUT_MS = 5000

export async function startChatNode(config: ChatNodeConfig, log: (line: string) => void): Promise<ChatNode> {
  const peers: Record<string, string> = {}
  for (const s of config.seeds ?? []) if (s.node !== config.name) peers[s.node] = s.address
  const transport = new WebSocketTransport({
    listen: { host: config.host, port: config.port },
    peers,
    secret: config.secret,
    reconnect: { minMs: 100, maxMs: 2000 },
    // A dead peer fails every redial; report only what needs a person.
    log: (e) => {
      if (e.level === 'error') log(`transport ${e.event} ${e.node ?? ''} ${e.reason ?? ''}`)
    },
  })
  const system = new ActorSystem({ name: config.name, transport })
  await system.start()
  const clusterUrl = `ws://${hostPart(config.advertise)}:${transport.address()!.port}`
  const cluster = Cluster.start(system, { address: clusterUrl, seeds: config.seeds ?? [{ node: config.name, address: clusterUrl }], transport, ...FAILURE_DETECTION })

  const disk = new NodeDisk(config.dataDir)
  const wal = await WriteAheadLog.open(disk, { dir: 'raft', segmentBytes: 8 * 1024 * 1024 })
  const isMember = config.historyMembers.includes(config.name)
  const history: HistoryGroup = await group(system, {
    id: 'history',
    members: config.historyMembers,
    // A node outside the group gets a handle that forwards to the members.
    ...(isMember ? { stateMachine: () => new HistoryMachine(), storage: wal } : {}),
    snapshotEveryEntries: 2000,
    requestTimeoutMs: 5000,
  })

  // Room leases live in their own Raft group on the history members (same WAL).
  const roomLeases = await openLeaseGroup(system, {
    id: 'room-leases',
    members: config.historyMembers,
    ...(isMember ? { storage: wal } : {}),
    requestTimeoutMs: 5000,
  })
  const leases = new Leases(system, roomLeases.group, { defaultTtlMs: ROOM_LEASE_TTL_MS })

  const pubsub = PubSub.start(system, cluster, { subscribeTimeoutMs: 3000 })
  const sharding = Sharding.start(system, cluster, {
    passivateAfterMs: 5 * 60_000,
    handoffTimeoutMs: 5000,
    activationGuard: leaseActivationGuard(leases, { ttlMs: ROOM_LEASE_TTL_MS }),
  })
  const Room = roomEntity({ history, pubsub, roomTtlMs: config.roomTtlMs })
  sharding.register(Room)
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

  let stopping: Promise<void> | null = null
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await gateway.close()
      if (cluster.isUp) await Promise.race([cluster.leave(), sleep(system, LEAVE_TIMEOUT_MS)])
      await sharding.stop() // releases the leases of the rooms it stopped
      await leases.close()
      await pubsub.stop()
      await roomLeases.group.stop().catch(() => {})
      await roomLeases.service?.stop()
      await history.stop().catch(() => {})
      await wal.close().catch(() => {})
      await disk.close()
      await system.terminate()
    })()
    return stopping
  }

  return { name: config.name, system, cluster, history, httpUrl, clusterUrl, whenUp: () => cluster.whenUp(), stop }
}

/** Waits on the actor system's clock (the node's time source, virtual under the testkit). */
function sleep(system: ActorSystem, ms: number): Promise<void> {
  return new Promise((resolve) => void system.clock.setTimer(ms, resolve))
}
