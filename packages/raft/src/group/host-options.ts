import type { RaftOptions } from '../internal/options.js'
import { RaftGroupError } from './group-error.js'

/** Settings of a node's Raft host (one per actor system, at /system/raft), shared by all its groups. */
export interface RaftHostOptions {
  /** Interval of the node's one tick timer, in ms (default 50). Election and heartbeat timeouts are counted in ticks. */
  tickMs?: number
  /** Ticks without a leader before a follower campaigns, randomized in [n, 2n) (default 10). */
  electionTicks?: number
  /** Ticks between heartbeats of an active leader (default 1). */
  heartbeatTicks?: number
  /** Other knobs of the Raft core (in-flight limits, message and apply sizes, ...). The host turns `piggybackCommit` on unless told otherwise. */
  raft?: Omit<RaftOptions, 'id' | 'random' | 'log' | 'electionTicks' | 'heartbeatTicks'>
  /** Idle ticks after which a leader whose followers are all caught up quiesces the group (default electionTicks; 0 = never). */
  quiesceAfterTicks?: number
  /** A node pings each peer it shares a group with when it sent it nothing for this long, in ms (default 500). */
  livenessIntervalMs?: number
  /** A quiesced follower wakes (and may campaign) when its leader's node was silent for this long, in ms (default 1500). */
  livenessTimeoutMs?: number
  /** Groups whose Ready is handled in one actor turn; the rest continue in the next turn (default 256). */
  maxReadiesPerTurn?: number
  /** Proposals, reads and transfers waiting on this node before new ones are refused with OVERLOADED (default 100,000). */
  maxPendingRequests?: number
  /** Raft messages per remote tell to one node (default 1024). */
  maxBatchMessages?: number
  /** Approximate payload bytes per remote tell to one node (default 1 MiB). */
  maxBatchBytes?: number
  /** Receives state changes of every group's core, prefixed with the group id. */
  log?: (line: string) => void
}

export type ResolvedHostOptions = Required<Omit<RaftHostOptions, 'log' | 'raft'>> & {
  raft: NonNullable<RaftHostOptions['raft']>
  log: ((line: string) => void) | null
}

export function resolveHostOptions(o: RaftHostOptions = {}): ResolvedHostOptions {
  const electionTicks = o.electionTicks ?? 10
  const r: ResolvedHostOptions = {
    tickMs: o.tickMs ?? 50,
    electionTicks,
    heartbeatTicks: o.heartbeatTicks ?? 1,
    raft: { piggybackCommit: true, ...o.raft },
    quiesceAfterTicks: o.quiesceAfterTicks ?? electionTicks,
    livenessIntervalMs: o.livenessIntervalMs ?? 500,
    livenessTimeoutMs: o.livenessTimeoutMs ?? 1500,
    maxReadiesPerTurn: o.maxReadiesPerTurn ?? 256,
    maxPendingRequests: o.maxPendingRequests ?? 100_000,
    maxBatchMessages: o.maxBatchMessages ?? 1024,
    maxBatchBytes: o.maxBatchBytes ?? 1024 * 1024,
    log: o.log ?? null,
  }
  for (const key of ['tickMs', 'electionTicks', 'heartbeatTicks', 'livenessIntervalMs', 'livenessTimeoutMs', 'maxReadiesPerTurn', 'maxPendingRequests', 'maxBatchMessages', 'maxBatchBytes'] as const) {
    if (!(Number.isFinite(r[key]) && r[key] > 0)) throw new RaftGroupError('INVALID_ARGUMENT', `RaftHostOptions.${key} must be > 0, got ${r[key]}`)
  }
  if (!(Number.isInteger(r.quiesceAfterTicks) && r.quiesceAfterTicks >= 0)) throw new RaftGroupError('INVALID_ARGUMENT', 'RaftHostOptions.quiesceAfterTicks must be an integer >= 0')
  if (r.livenessTimeoutMs <= r.livenessIntervalMs) throw new RaftGroupError('INVALID_ARGUMENT', 'livenessTimeoutMs must exceed livenessIntervalMs')
  return r
}
