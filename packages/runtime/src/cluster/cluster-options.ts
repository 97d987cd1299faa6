import type { Clock } from '../clock.js'
import { TroupeError } from '../errors.js'
import type { Transport } from '../transport.js'
import type { CoreConfig, SeedNode } from './cluster-core.js'
import { keepMajority, manualDowning } from './downing.js'
import type { DowningStrategy } from './downing.js'
import type { LoopLagOptions } from './loop-lag.js'
import { parseMemberInfo } from './member-info.js'
import type { MemberInfo } from './member-info.js'
import { PhiAccrualDetector } from './phi-accrual.js'
import type { PhiAccrualOptions } from './phi-accrual.js'

export interface ClusterOptions {
  /** Where peers reach this node (default: the system's name, enough for in-process transports). */
  address?: string
  /** Nodes to join through; a string is a node name whose address is the same string. */
  seeds?: ReadonlyArray<string | SeedNode>
  /** Identifies this run of the node; must grow across restarts (default: the clock, in ms). */
  incarnation?: number
  heartbeatIntervalMs?: number
  /** Suspicion level at which a monitored node is unreachable (default 8). */
  phiThreshold?: number
  acceptableHeartbeatPauseMs?: number
  minStdDeviationMs?: number
  gossipIntervalMs?: number
  /** Unreachability must be unchanged this long before the downing strategy acts (default 10 s). */
  stableAfterMs?: number
  /** How many ring successors each node heartbeats (default 5). */
  monitoredBy?: number
  /** 'keep-majority' (default), 'manual' (only `cluster.down`), or a custom strategy. */
  downing?: 'keep-majority' | 'manual' | DowningStrategy
  /** The first seed starts a new cluster if no other seed answers within this (default 3 s). */
  seedTimeoutMs?: number
  /** Join requests are repeated this often until one is answered (default: the gossip interval). */
  joinRetryMs?: number
  /** Largest membership this node accepts joins into (default 1000). */
  maxMembers?: number
  /** A removed incarnation is remembered this long (default 24 h). */
  tombstoneMaxAgeMs?: number
  /** Event-loop lag probe; `false` disables stall discounting. */
  loopLag?: LoopLagOptions | false
  /**
   * The transport the system runs on, so addresses learned by gossip reach it
   * (`addPeer`), and its wire version range goes into this member's record.
   */
  transport?: Pick<Transport, 'addPeer' | 'versions'>
  /** This node's app version, in its member record (default ''); new shards prefer members of the newest. */
  appVersion?: string
  /** This node's roles, in its member record (at most 32, each 1-64 characters). */
  roles?: readonly string[]
  /** A small string map in this node's member record (at most 32 entries, 2048 characters in all). */
  metadata?: Readonly<Record<string, string>>
}

/** ClusterOptions with every default filled in and every number checked. */
export interface ResolvedClusterOptions {
  readonly incarnation: number
  readonly heartbeatIntervalMs: number
  readonly gossipIntervalMs: number
  /** null: no loop-lag probe. */
  readonly loopLag: LoopLagOptions | null
  readonly detector: PhiAccrualOptions
  readonly core: Omit<CoreConfig, 'self' | 'random'>
  /** App version, roles, metadata and wire range, checked and normalized. */
  readonly info: MemberInfo
}

/** Fills in the defaults and checks the options; throws INVALID_ARGUMENT for the first bad one. */
export function resolveClusterOptions(options: ClusterOptions, clock: Clock): ResolvedClusterOptions {
  const incarnation = options.incarnation ?? Math.floor(clock.now())
  const heartbeatIntervalMs = positive(options.heartbeatIntervalMs ?? 1000, 'heartbeatIntervalMs')
  const gossipIntervalMs = positive(options.gossipIntervalMs ?? 1000, 'gossipIntervalMs')
  const loopLag = options.loopLag === false ? null : { intervalMs: heartbeatIntervalMs / 2, stallThresholdMs: heartbeatIntervalMs, ...options.loopLag }
  const detector = {
    threshold: options.phiThreshold ?? 8,
    acceptableHeartbeatPauseMs: options.acceptableHeartbeatPauseMs ?? 3000,
    minStdDeviationMs: options.minStdDeviationMs ?? Math.min(100, heartbeatIntervalMs / 4),
    firstHeartbeatEstimateMs: heartbeatIntervalMs,
  }
  new PhiAccrualDetector(detector) // validates the options now rather than at the first heartbeat
  const core = {
    seeds: (options.seeds ?? []).map((s) => (typeof s === 'string' ? { node: s, address: s } : s)),
    monitoredBy: Math.floor(positive(options.monitoredBy ?? 5, 'monitoredBy')),
    stableAfterMs: nonNegative(options.stableAfterMs ?? 10_000, 'stableAfterMs'),
    seedTimeoutMs: nonNegative(options.seedTimeoutMs ?? 3000, 'seedTimeoutMs'),
    joinRetryMs: positive(options.joinRetryMs ?? gossipIntervalMs, 'joinRetryMs'),
    tombstoneMaxAgeMs: positive(options.tombstoneMaxAgeMs ?? 24 * 3600_000, 'tombstoneMaxAgeMs'),
    maxMembers: Math.floor(positive(options.maxMembers ?? 1000, 'maxMembers')),
    downing: options.downing === 'manual' ? manualDowning : typeof options.downing === 'function' ? options.downing : keepMajority,
  }
  const versions = options.transport?.versions
  const info = parseMemberInfo({ appVersion: options.appVersion, roles: options.roles, metadata: options.metadata, wireMin: versions?.min, wireMax: versions?.max }, (m) => {
    throw new TroupeError('INVALID_ARGUMENT', m)
  })
  return { incarnation, heartbeatIntervalMs, gossipIntervalMs, loopLag, detector, core, info }
}

function nonNegative(v: number, what: string): number {
  if (!(v >= 0) || !Number.isFinite(v)) throw new TroupeError('INVALID_ARGUMENT', `${what} must be a number >= 0, got ${v}`)
  return v
}

function positive(v: number, what: string): number {
  if (!(v > 0) || !Number.isFinite(v)) throw new TroupeError('INVALID_ARGUMENT', `${what} must be a positive number, got ${v}`)
  return v
}
