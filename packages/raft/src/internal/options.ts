import { invariant } from './errors.js'

/**
 * How reads are confirmed. 'safe' (ReadIndex) asks a quorum by a heartbeat
 * round; 'lease' trusts that no other leader exists while CheckQuorum has
 * heard from a quorum within the election timeout. Lease reads depend on
 * clocks advancing at similar rates on all nodes (bounded drift): a paused or
 * slow node can serve a stale read.
 */
export type ReadOnlyMode = 'safe' | 'lease'

export interface RaftOptions {
  /** This node's id. */
  id: string
  /** Ticks without hearing from a leader before a follower campaigns. Randomized in [electionTicks, 2*electionTicks). */
  electionTicks?: number
  /** Ticks between leader heartbeats. Must be < electionTicks. */
  heartbeatTicks?: number
  /** Ask for pre-votes before bumping the term (a rejoining node does not disrupt). */
  preVote?: boolean
  /** The leader steps down when it has not heard from a quorum for an election timeout. */
  checkQuorum?: boolean
  /** Most append messages in flight to one follower in replicate state. */
  maxInflightMsgs?: number
  /** Most entry payload bytes in flight to one follower; 0 = no byte limit. */
  maxInflightBytes?: number
  /** Payload bytes per append message (at least one entry is always sent). */
  maxMsgBytes?: number
  /** Payload bytes of entries the leader holds uncommitted before it drops proposals; 0 = no cap. */
  maxUncommittedBytes?: number
  /** Payload bytes of committed entries handed out in one Ready (at least one entry). */
  maxApplyBytes?: number
  /** Bytes of snapshot data per InstallSnapshot chunk. */
  maxSnapshotChunkBytes?: number
  /** Reads waiting for confirmation before readIndex() refuses more. */
  maxPendingReads?: number
  readOnly?: ReadOnlyMode
  /**
   * When the leader's commit index moves and a follower has no new entries
   * to receive, do not send the new index on its own: it travels with that
   * follower's next append or heartbeat. Halves the messages (and wake-ups)
   * of a write when writes come one at a time; followers apply up to one
   * heartbeat later. The leader's answers are not delayed. Default false
   * (etcd's behavior: an empty append to every follower on every commit).
   */
  piggybackCommit?: boolean
  /** Uniform random number in [0, 1), used only to randomize election timeouts. */
  random: () => number
  /** Receives human-readable lines about state changes (for transcripts and debugging). */
  log?: (line: string) => void
}

export type ResolvedOptions = Required<Omit<RaftOptions, 'log'>> & { log: ((line: string) => void) | null }

export const defaultOptions = {
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  maxInflightMsgs: 256,
  maxInflightBytes: 0,
  maxMsgBytes: 1024 * 1024,
  maxUncommittedBytes: 64 * 1024 * 1024,
  maxApplyBytes: 16 * 1024 * 1024,
  maxSnapshotChunkBytes: 1024 * 1024,
  maxPendingReads: 4096,
  readOnly: 'safe' as ReadOnlyMode,
  piggybackCommit: false,
}

export function resolveOptions(o: RaftOptions): ResolvedOptions {
  const r = { ...defaultOptions, ...stripUndefined(o), id: o.id, random: o.random, log: o.log ?? null } as ResolvedOptions
  invariant(typeof r.id === 'string' && r.id.length > 0, 'id must be a non-empty string')
  invariant(Number.isInteger(r.heartbeatTicks) && r.heartbeatTicks > 0, 'heartbeatTicks must be a positive integer')
  invariant(Number.isInteger(r.electionTicks) && r.electionTicks > r.heartbeatTicks, 'electionTicks must be > heartbeatTicks')
  invariant(Number.isInteger(r.maxInflightMsgs) && r.maxInflightMsgs > 0, 'maxInflightMsgs must be > 0')
  invariant(r.maxInflightBytes >= 0 && r.maxUncommittedBytes >= 0, 'byte limits must be >= 0')
  invariant(r.maxMsgBytes > 0 && r.maxApplyBytes > 0 && r.maxSnapshotChunkBytes > 0, 'message sizes must be > 0')
  invariant(r.maxPendingReads > 0, 'maxPendingReads must be > 0')
  invariant(r.readOnly === 'safe' || r.readOnly === 'lease', "readOnly must be 'safe' or 'lease'")
  invariant(r.readOnly !== 'lease' || r.checkQuorum, "readOnly: 'lease' requires checkQuorum")
  invariant(typeof r.random === 'function', 'random must be a function')
  return r
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v
  return out
}
