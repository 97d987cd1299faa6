// startNode(config): one call that starts a correct node. The order makes
// the cold-start race impossible: the system and transport first, then
// every service that receives remote traffic (shard region, Raft host and
// groups, pub/sub mediator, lease and saga actors) on a membership view
// that is empty until the cluster exists, then the HTTP listener (with
// /ready answering 503) and discovery, then Cluster.start. By the time any
// peer sees this node up, its services are there to answer.
import { ActorSystem, Cluster, PubSub, Sharding, WebSocketTransport, errorCode } from '@troupe/runtime'
import type { Disk, SeedNode, TransportLog } from '@troupe/runtime'
import { Leases, openLeaseGroup } from '@troupe/lease'
import { WriteAheadLog } from '@troupe/raft'
import { AuthFailures } from './auth-failures.js'
import { resolveConfig } from './config-check.js'
import { CoordinatedShutdown } from './coordinated-shutdown.js'
import { notWritable, openDataDir } from './data-dir.js'
import { BOOTSTRAP_PATH, bootstrapRoute, bootstrapSeeds } from './discovery/index.js'
import type { ProbeAnswer } from './discovery/index.js'
import { PendingMembership } from './internal/pending-membership.js'
import { NodeHandle } from './internal/node-handle.js'
import type { NodeConfig, NodeLog } from './node-config.js'
import { NodeError } from './node-error.js'
import { NodeHttp } from './node-http.js'
import type { NodeParts } from './node-parts.js'
import { RaftService } from './raft-service.js'
import { SagaService } from './saga-service.js'
import { SHUTDOWN_PHASES, addNodeTasks } from './node-shutdown.js'
import { installSignalHandlers } from './signals.js'
import type { TroupeNode } from './troupe-node.js'

/** Exit code of a node the cluster downed (a supervisor should restart it). */
export const EXIT_DOWNED = 75

export async function startNode(config: NodeConfig): Promise<TroupeNode> {
  const rc = resolveConfig(config)
  const log = config.log ?? defaultLog(rc.name)
  const auth = new AuthFailures()
  const cleanup: Array<() => Promise<unknown> | unknown> = []
  try {
    // 1. Disk first: a bad data directory fails before any port is bound.
    let disk: Disk | null = config.disk ?? null
    let ownDisk = false
    if (disk === null && rc.needsDisk) {
      disk = await openDataDir(config.dataDir!)
      ownDisk = true
      const opened = disk
      cleanup.push(() => (opened as { close?: () => Promise<void> }).close?.())
    }
    // 2. System and transport.
    const ownTransport = config.transport === undefined
    const transport = config.transport ?? new WebSocketTransport({
      listen: config.listen!,
      secret: config.secret ?? '',
      ...(config.tls ? { tls: config.tls } : {}),
      ...(config.wire ? { wire: config.wire } : {}),
      reconnect: { minMs: 100, maxMs: 2000 },
      ...(config.clock ? { clock: config.clock } : {}),
      ...(config.random ? { random: config.random } : {}),
      log: auth.wrap(transportLog(log)),
    })
    const system = new ActorSystem({ ...config.system, name: rc.name, transport, ...(config.clock ? { clock: config.clock } : {}), ...(config.random ? { random: config.random } : {}) })
    try {
      await system.start()
    } catch (err) {
      throw addressInUse(err, config.listen)
    }
    cleanup.push(() => system.terminate(), () => transport.stop())
    // A handshake refused for a wrong secret, from any transport that reports it (the WebSocket one does).
    transport.on?.('authFailed', (f) => auth.observe({ level: 'error', event: 'auth-failed', node: f.peer, code: 4002, reason: 'proof does not match (wrong cluster secret?)' }))
    const address = transport instanceof WebSocketTransport ? advertisedUrl(transport, rc.advertise) : rc.name
    // 3. Services that receive remote traffic, before the cluster exists.
    let wal: WriteAheadLog | null = null
    if (disk !== null && rc.needsDisk) {
      try {
        wal = await WriteAheadLog.open(disk, { dir: 'raft' })
      } catch (err) {
        throw ownDisk ? notWritable(config.dataDir!, err) : err
      }
      const opened = wal
      cleanup.unshift(() => opened.close())
    }
    const services = config.services ?? {}
    const membership = new PendingMembership(rc.name)
    let sharding: Sharding | null = null
    if (services.sharding) {
      const { entities, ...options } = services.sharding
      sharding = Sharding.start(system, membership, options)
      for (const def of entities) sharding.register(def)
    }
    const pubsub = services.pubsub ? PubSub.start(system, membership) : null
    const raft = services.raft || services.leases || services.sagas ? new RaftService(system, wal, rc.raftMembers, services.raft) : null
    let leaseGroup = null
    let leases: Leases | null = null
    if (services.leases && raft) {
      const members = services.leases.members ?? rc.raftMembers
      const id = services.leases.group ?? 'leases'
      leaseGroup = await openLeaseGroup(system, { id, members, ...(members.includes(rc.name) ? { storage: wal! } : {}), host: services.raft })
      raft.track(id, leaseGroup.group)
      leases = new Leases(system, leaseGroup.group, services.leases.client)
    }
    const sagas = services.sagas && raft ? await SagaService.open(system, raft, services.sagas, rc.raftMembers, (line) => log('info', `saga: ${line}`)) : null
    // 4. HTTP (so /ready answers 503 while joining, and peers can probe /bootstrap).
    const http = rc.http ? new NodeHttp({ ...rc.http, log: (level, msg) => log(level, msg) }) : null
    const shutdown = new CoordinatedShutdown(SHUTDOWN_PHASES, rc.shutdownTimeouts, system.clock, log)
    const parts: NodeParts = { rc, log, system, transport, ownTransport, address, disk, ownDisk, wal, membership, sharding, pubsub, raft, leaseGroup, leases, sagas, http, auth, shutdown, cluster: null, started: false }
    const node = new NodeHandle(parts)
    if (http) {
      await http.listen()
      cleanup.unshift(() => http.close())
    }
    // 5. Seeds (from discovery when configured), then join.
    let seeds: SeedNode[] = rc.seeds
    const discovery = config.discovery
    if (discovery !== undefined && discovery.method !== 'static') {
      const state = (): ProbeAnswer => ({ node: rc.name, address, members: clusterMembers(parts) })
      const clock = system.clock
      const discoveryLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: object): void => log(level, msg, fields as Record<string, unknown> | undefined)
      http!.route('GET', BOOTSTRAP_PATH, bootstrapRoute({ secret: config.secret!, state, clock, log: discoveryLog }), { access: 'node' })
      // Cluster.start follows in the same turn: the next probe of a peer sees this node's cluster.
      seeds = await bootstrapSeeds({
        self: { node: rc.name, address },
        discovery,
        secret: config.secret!,
        clock,
        timers: { setTimeout: (fn, ms) => clock.setTimer(ms, fn), clearTimeout: (h) => clock.clearTimer(h as never) },
        log: discoveryLog,
        state,
      })
    }
    const memberInfo = { ...(config.appVersion ? { appVersion: config.appVersion } : {}), ...(config.roles ? { roles: config.roles } : {}), ...(config.metadata ? { metadata: config.metadata } : {}) }
    const cluster = Cluster.start(system, { ...config.cluster, ...memberInfo, address, seeds: seeds.length > 0 ? seeds : [{ node: rc.name, address }], transport })
    parts.cluster = cluster
    membership.attach(cluster)
    sagas?.startRecovering(cluster)
    addNodeTasks(parts)
    parts.started = true
    const exitOnSignal = rc.installSignalHandlers ? installSignalHandlers(node, rc.config.exitCode ?? 0, log) : null
    cluster.on('selfDown', () => {
      log('warn', 'the cluster downed this node: shutting down')
      void node.shutdown({ reason: 'downed by the cluster' }).then(() => exitOnSignal?.(EXIT_DOWNED))
    })
    // Removed without leaving (the others downed and removed it while it was paused): as final as being downed.
    cluster.on('selfRemoved', () => {
      if (parts.shutdown.started) return // the leave of a graceful shutdown
      log('warn', 'the cluster removed this node: shutting down')
      void node.shutdown({ reason: 'removed by the cluster' }).then(() => exitOnSignal?.(EXIT_DOWNED))
    })
    log('info', `started: cluster ${address}${http ? `, http ${http.url}` : ''}`)
    return node
  } catch (err) {
    for (const fn of cleanup.reverse()) await Promise.resolve().then(fn).catch(() => undefined)
    throw err
  }
}

function clusterMembers(p: NodeParts): SeedNode[] {
  const cluster = p.cluster
  if (!cluster) return []
  return cluster.members().filter((m) => m.status === 'up' || m.status === 'joining').map((m) => ({ node: m.node, address: m.address }))
}

/** The transport's URL with the advertised host in place of the bound one. */
function advertisedUrl(transport: WebSocketTransport, advertise: string): string {
  const bound = transport.url()!
  const host = advertise.includes(':') && !advertise.startsWith('[') ? `[${advertise}]` : advertise
  return bound.replace(/^(wss?:\/\/)(\[[^\]]*\]|[^:/]+)/, `$1${host}`)
}

/** A taken cluster port (the transport's ADDRESS_IN_USE, or a bare EADDRINUSE) as the node's typed error naming host:port. */
function addressInUse(err: unknown, listen: NodeConfig['listen']): unknown {
  if (errorCode(err) !== 'ADDRESS_IN_USE' && (err as NodeJS.ErrnoException)?.code !== 'EADDRINUSE') return err
  const where = listen ? `${listen.host}:${listen.port}` : 'the cluster port'
  return new NodeError('ADDRESS_IN_USE', `cluster transport: ${where} is already in use by another process`, { cause: err, subject: where })
}

function transportLog(log: NodeLog): TransportLog {
  return (e) => {
    if (e.level !== 'warn' && e.level !== 'error') return
    log(e.level, `transport ${e.event}${e.node ? ` node=${JSON.stringify(e.node)}` : ''}${e.remote ? ` remote=${e.remote}` : ''}${e.reason ? ` reason=${JSON.stringify(e.reason)}` : ''}`, { ...e })
  }
}

function defaultLog(name: string): NodeLog {
  return (level, message) => {
    if (level === 'debug') return
    const line = `[${name}] ${level === 'info' ? '' : `${level}: `}${message}\n`
    if (level === 'error' || level === 'warn') process.stderr.write(line)
    else process.stdout.write(line)
  }
}
