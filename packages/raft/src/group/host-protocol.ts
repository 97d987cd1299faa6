import type { ConfChange } from '../internal/conf-change.js'
import type { ClusterConfig, LogStorage, PersistedState } from '../storage.js'
import type { RaftGroupErrorCode } from './group-error.js'
import type { AnyStateMachine } from './state-machine.js'

/**
 * Messages of the Raft host actor (/system/raft). Requests travel between
 * hosts (forwarding to the leader) and from a node's own RaftGroup handles;
 * replies are plain values, so codes and leader hints survive the wire.
 * `opened`, `synced` and `drain` are the host's messages to itself.
 */
export type HostProtocol = {
  open(p: { spec: GroupSpec }): HostReply
  close(p: { group: string }): HostReply
  propose(p: ProposeRequest): HostReply
  proposeBatch(p: ProposeBatchRequest): HostReply
  read(p: ReadRequest): HostReply
  confChange(p: ConfChangeRequest): HostReply
  transfer(p: TransferRequest): HostReply
  /** Hands every group this node leads to another voter (value: a LeadershipHandoff). */
  transferAway(p: { timeoutMs: number }): HostReply
  status(p: { group: string }): GroupStatus | null
  stats(): HostStats
  raft(p: RaftBatch): void
  tick(): void
  opened(p: { spec: GroupSpec; state: PersistedState | null; error: string | null; reply: Reply }): void
  synced(p: { batch: number; error: string | null }): void
  drain(): void
}

/** Answers one request held on a host (by a replica, or while forwarded). */
export type Reply = (reply: HostReply) => void

export interface RequestBase {
  group: string
  /** How long the asker waits; the host gives up (TIMEOUT) after it. */
  timeoutMs: number
  /** Already forwarded once: answer here or say who the leader is, never forward again. */
  forwarded: boolean
}

export interface ProposeRequest extends RequestBase {
  clientId: string
  seq: number
  ackedBelow: number
  /** The client got a result from this session before. */
  established: boolean
  command: unknown
}

/** One command of a ProposeBatch: a ProposeRequest without the fields the batch carries once. */
export interface ProposeItem {
  /** This command's own deadline on the host (the batch's `timeoutMs` is the largest of them). */
  timeoutMs: number
  clientId: string
  seq: number
  ackedBelow: number
  established: boolean
  command: unknown
}

/**
 * Commands a handle issued in one turn, sent as one message. Each becomes its own log entry (an entry's
 * index is a fencing token; sessions dedupe per seq); the reply's `value` holds one HostReply per item.
 */
export interface ProposeBatchRequest extends RequestBase {
  items: ProposeItem[]
}

/** Bounds of a ProposeBatch: the handle sends a full batch at once and starts the next. */
export const MAX_PROPOSE_BATCH_ITEMS = 256
export const MAX_PROPOSE_BATCH_BYTES = 256 * 1024

export interface ReadRequest extends RequestBase {
  query: unknown
}

export interface ConfChangeRequest extends RequestBase {
  change: ConfChange
}

export interface TransferRequest extends RequestBase {
  to: string
}

/**
 * A host's answer. Errors speak the group's vocabulary from here on: the
 * router turns the core's RaftError into a RaftGroupErrorCode plus `retry`,
 * the handle resends while `retry` holds and time is left, and what it
 * finally throws is `replyError(reply)`: a RaftGroupError whose `retryable`
 * (from its code) tells the caller whether to send the command again.
 */
export type HostReply =
  /** `leader`: the leader as the answering node knows it, so proxies learn where to send next. */
  | { ok: true; value: unknown; leader?: string | null }
  | {
      ok: false
      code: RaftGroupErrorCode
      message: string
      /** The leader the answering node knows of. */
      leader: string | null
      /**
       * The handle resends the request before its deadline (same session seq): it did not take effect, or
       * may have, and a moment or another leader may change that. Not the thrown error's `retryable`.
       */
      retry: boolean
    }

/** Raft messages of many groups from one node to another, sent once per actor turn (also empty, as a liveness ping). */
export interface RaftBatch {
  from: string
  /** [groupId, message] pairs; a message is a RaftMessage or a group-layer control message. */
  items: unknown[]
}

/** Sent by a leader after a heartbeat round, when the group is idle: stop ticking until something happens. */
export interface QuiesceMessage {
  type: 'quiesce'
  term: number
  commit: number
  lastIndex: number
}

export interface GroupSpec {
  id: string
  members: string[]
  learners: string[]
  join: boolean
  stateMachine: (() => AnyStateMachine) | null
  storage: LogStorage | null
  snapshotEveryEntries: number
  sessionTtlMs: number
  maxResultsPerClient: number
}

export interface GroupStatus {
  id: string
  node: string
  /** 'proxy' on a node that only forwards requests to the members. */
  role: 'follower' | 'preCandidate' | 'candidate' | 'leader' | 'proxy'
  leader: string | null
  term: number
  commit: number
  applied: number
  lastIndex: number
  snapshotIndex: number
  config: ClusterConfig
  quiesced: boolean
  /** Commands applied by this replica since it opened (duplicates excluded). */
  appliedCommands: number
  snapshotsInstalled: number
  snapshotsTaken: number
  sessions: number
}

export interface HostStats {
  /** Remote tells carrying raft batches (including liveness pings) sent since start. */
  batchesSent: number
  /** Raft messages (of any group) sent since start. */
  messagesSent: number
  pingsSent: number
  /** Group ticks performed (a quiesced group is not ticked). */
  groupTicks: number
  groups: number
  quiesced: number
  syncs: number
  droppedMessages: number
}

export function errorReply(code: RaftGroupErrorCode, message: string, leader: string | null = null, retry = false): HostReply {
  return { ok: false, code, message, leader, retry }
}

export function okReply(value: unknown, leader: string | null = null): HostReply {
  return { ok: true, value, leader }
}

const isStr = (x: unknown): x is string => typeof x === 'string' && x.length > 0
const isNat = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0

/** Why a request from the network is malformed, or null. */
export function requestProblem(kind: 'propose' | 'proposeBatch' | 'read' | 'confChange' | 'transfer', p: unknown): string | null {
  if (typeof p !== 'object' || p === null) return 'not an object'
  const r = p as Record<string, unknown>
  if (!isStr(r.group)) return 'bad group'
  if (typeof r.timeoutMs !== 'number' || !(r.timeoutMs > 0) || !Number.isFinite(r.timeoutMs)) return 'bad timeoutMs'
  if (typeof r.forwarded !== 'boolean') return 'bad forwarded'
  switch (kind) {
    case 'propose':
      if (!isStr(r.clientId) || !isNat(r.seq) || !isNat(r.ackedBelow) || typeof r.established !== 'boolean') return 'bad session'
      return null
    case 'proposeBatch': {
      const items = r.items
      if (!Array.isArray(items) || items.length === 0 || items.length > MAX_PROPOSE_BATCH_ITEMS) return 'bad items'
      for (const item of items) {
        const x = item as Record<string, unknown> | null
        if (typeof x !== 'object' || x === null || typeof x.timeoutMs !== 'number' || !(x.timeoutMs > 0) || !Number.isFinite(x.timeoutMs)) return 'bad item timeoutMs'
        if (!isStr(x.clientId) || !isNat(x.seq) || !isNat(x.ackedBelow) || typeof x.established !== 'boolean') return 'bad item session'
      }
      return null
    }
    case 'read':
      return null
    case 'confChange': {
      const c = r.change as Record<string, unknown> | null
      if (typeof c !== 'object' || c === null || !isStr(c.node) || !['addVoter', 'addLearner', 'removeNode'].includes(c.type as string)) return 'bad change'
      return null
    }
    case 'transfer':
      return isStr(r.to) ? null : 'bad target'
  }
}
