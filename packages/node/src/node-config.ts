// The one typed config of a node. Every field says its unit and default;
// `resolveConfig` (config-check.ts) checks it and fills the defaults in.
import type { ActorDef, Clock, ClusterOptions, Disk, SeedNode, ShardingOptions, SystemOptions, TlsOptions, Transport, WebSocketTransportOptions } from '@troupe/runtime'
import type { LeasesOptions } from '@troupe/lease'
import type { RaftHostOptions } from '@troupe/raft'
import type { Saga } from '@troupe/saga'
import type { DiscoveryConfig } from './discovery/index.js'

export type { SeedNode }

/** A bearer token of an operator on the node's HTTP listener. */
export interface OperatorToken {
  /** At least 16 characters; sent as `Authorization: Bearer <token>`, never in a URL. */
  token: string
  /** 'read' may call GET routes; 'admin' may call every operator route. */
  role: 'read' | 'admin'
}

export interface HttpConfig {
  /** Address the HTTP listener binds to (default: `listen.host`). */
  host?: string
  /** Port (0: any free port; see `node.http.url`). */
  port: number
  /** Tokens accepted on operator routes (default none: every operator route answers 401). */
  operatorTokens?: OperatorToken[]
}

export interface ShardingServiceConfig extends ShardingOptions {
  /** Entity kinds this node hosts; every node registers the same kinds. */
  entities: ActorDef<any, any>[]
}

export interface LeaseServiceConfig {
  /** Id of the Raft group that holds the lease table (default 'leases'). */
  group?: string
  /** Voters of that group (default: `raftMembers`). */
  members?: string[]
  /** Options of this node's `Leases` client. */
  client?: LeasesOptions
}

export interface SagaServiceConfig {
  /** Saga definitions this node runs and can resume. */
  definitions: Saga<any, any>[]
  /** Id of the Raft group that holds the saga log (default 'sagas'). */
  logGroup?: string
  /** Voters of that group (default: `raftMembers`). */
  members?: string[]
  /** Period of the recover loop, in ms: this node's own unfinished sagas and those of members that are not up (default 2000; 0: no loop). */
  recoverEveryMs?: number
}

export interface ServicesConfig {
  /** Sharded entities (virtual actors). */
  sharding?: ShardingServiceConfig
  /** The node's Raft host (groups are opened with `node.raft.group`). Implied by leases and sagas. */
  raft?: RaftHostOptions
  /** A lease table on a Raft group and this node's `Leases` client. */
  leases?: LeaseServiceConfig
  /** A saga coordinator on a Raft saga log, with the recover loop. */
  sagas?: SagaServiceConfig
  /** Cluster-wide pub/sub (default false). */
  pubsub?: boolean
}

/** Timeouts of the shutdown phases, in ms (see the README's shutdown table for the defaults). */
export type ShutdownTimeouts = Partial<Record<ShutdownPhaseName, number>>

export type ShutdownPhaseName =
  | 'not-ready'
  | 'stop-work'
  | 'sagas'
  | 'transfer-leadership'
  | 'release-leases'
  | 'hand-off-shards'
  | 'leave-cluster'
  | 'stop-services'
  | 'terminate-system'
  | 'close-listeners'

export interface NodeConfig {
  /** Node name, unique in the cluster: letters, digits, '.', '_', '-' (1 to 64). */
  name: string
  /** Where the cluster transport listens (port 0: any free port). Required unless `transport` is injected. */
  listen?: { host: string; port: number }
  /** Host name other nodes reach this node by (default: `listen.host`, or 127.0.0.1 when that is 0.0.0.0 / ::). */
  advertise?: string
  /** Cluster secret, at least 16 bytes, the same on every node. Required unless `transport` is injected. */
  secret?: string
  /** Serve and dial `wss://` (passed to the WebSocket transport). */
  tls?: TlsOptions
  /** Nodes to join through, the same list in the same order on every node (default: this node alone, which forms a new cluster). */
  seeds?: SeedNode[]
  /** Find seeds by a contact list, DNS or the Kubernetes API instead (Cluster Bootstrap; static seeds are `seeds`); needs `http`. */
  discovery?: DiscoveryConfig
  /** Directory of the node's write-ahead log (Raft groups, leases, saga log). Required when any of them runs, unless `disk` is injected. */
  dataDir?: string
  /** The node's one HTTP listener: /live, /ready and routes mounted with `node.http.route` (default: none). */
  http?: HttpConfig
  /** This build's version (e.g. '1.4.2'), in the member record; new shards prefer members of the newest. */
  appVersion?: string
  /** Roles of this node (e.g. ['frontend']), in the member record (`cluster.membersWithRole`). */
  roles?: string[]
  /** Free-form labels, in the member record. */
  metadata?: Record<string, string>
  /** Wire versions the WebSocket transport speaks (default: this build's; `{ experimental: 'next' }` is the version-3 test build). */
  wire?: WebSocketTransportOptions['wire']
  /** Failure detection and membership overrides (heartbeat, gossip, downing, ...). */
  cluster?: Omit<ClusterOptions, 'address' | 'seeds' | 'transport'>
  /** Default voters of Raft groups opened with `node.raft.group` (default: the seed names, or this node alone). */
  raftMembers?: string[]
  services?: ServicesConfig
  /** Timeouts of the shutdown phases, in ms. */
  shutdown?: ShutdownTimeouts
  /** Map SIGTERM/SIGINT to `shutdown()` then `process.exit`, and a downed node to exit code 75 (default: true for a node on the WebSocket transport, false with an injected transport). */
  installSignalHandlers?: boolean
  /** Exit code after a signal-initiated shutdown (default 0). */
  exitCode?: number
  /** Where the node logs: one call per event (default: info and above to stdout, as `[name] msg`). */
  log?: NodeLog
  // Injectables, so the same app code runs under the simulator.
  /** Use this transport rather than a WebSocket transport on `listen` (e.g. `MemoryNetwork.transport()`). */
  transport?: Transport
  /** Use this disk rather than a `NodeDisk` on `dataDir` (e.g. the testkit's SimDisk). */
  disk?: Disk
  /** Time source and timers of the system (default: the real clock). */
  clock?: Clock
  /** Uniform in [0, 1) (default Math.random). */
  random?: () => number
  /** Other actor-system options (ask timeout, throughput, scheduling hooks of the simulator). */
  system?: Omit<SystemOptions, 'name' | 'transport' | 'clock' | 'random'>
}

export type NodeLogLevel = 'debug' | 'info' | 'warn' | 'error'
export type NodeLog = (level: NodeLogLevel, message: string, fields?: Record<string, unknown>) => void
