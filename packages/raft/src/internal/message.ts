import type { Entry, SnapshotMeta } from '../storage.js'

/**
 * Messages between Raft peers. Plain objects (no classes, no undefined
 * fields) so any CBOR codec can carry them. `term` is the sender's term,
 * except for pre-votes, which carry the term the sender would campaign in.
 */
export type RaftMessage =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | HeartbeatRequest
  | HeartbeatResponse
  | SnapshotChunk
  | SnapshotChunkAck
  | TimeoutNow
  | ReadIndexRequest
  | ReadIndexResponse

export type MessageType = RaftMessage['type']

/** A message as the core builds it: `from` and (usually) `term` are filled in when queued. */
export type OutgoingMessage = RaftMessage extends infer M
  ? M extends RaftMessage
    ? Omit<M, 'from' | 'term'> & { term?: number }
    : never
  : never

interface Envelope {
  from: string
  to: string
  term: number
}

/** A read context: opaque to the core, echoed back in the ReadState. */
export type ReadContext = string | Uint8Array

export interface VoteRequest extends Envelope {
  type: 'vote' | 'preVote'
  /** The candidate's last log entry. */
  logTerm: number
  index: number
  /** Sent on a leadership transfer: voters skip the leader-lease check. */
  transfer: boolean
}

export interface VoteResponse extends Envelope {
  type: 'voteResp' | 'preVoteResp'
  reject: boolean
}

export interface AppendRequest extends Envelope {
  type: 'app'
  /** The entry that precedes `entries`. */
  logTerm: number
  index: number
  commit: number
  entries: Entry[]
}

export interface AppendResponse extends Envelope {
  type: 'appResp'
  /** Accepted: the follower's log matches the leader's up to `index`. Rejected: the `index` of the rejected append. */
  index: number
  reject: boolean
  /** On reject: the follower's guess of the last index where the logs may match, and its term there. */
  rejectHint: number
  logTerm: number
}

export interface HeartbeatRequest extends Envelope {
  type: 'heartbeat'
  commit: number
  /** The newest ReadIndex request the leader had registered when it sent this; 0 if none. */
  readSeq: number
}

export interface HeartbeatResponse extends Envelope {
  type: 'heartbeatResp'
  readSeq: number
}

export interface SnapshotChunk extends Envelope {
  type: 'snap'
  meta: SnapshotMeta
  /** Byte offset of `data` within the snapshot data. */
  offset: number
  totalBytes: number
  data: Uint8Array
  done: boolean
}

export interface SnapshotChunkAck extends Envelope {
  type: 'snapResp'
  /** The snapshot's index, to tell transfers apart. */
  index: number
  /** Contiguous bytes received so far. */
  offset: number
  /** True when a chunk arrived out of order: the leader resends from `offset`. */
  reject: boolean
}

export interface TimeoutNow extends Envelope {
  type: 'timeoutNow'
}

export interface ReadIndexRequest extends Envelope {
  type: 'readIndex'
  ctx: ReadContext
}

export interface ReadIndexResponse extends Envelope {
  type: 'readIndexResp'
  ctx: ReadContext
  index: number
}

/** Responses that vouch for durable state: sent only after the Ready that produced them is persisted. */
export function needsPersist(m: RaftMessage): boolean {
  return m.type === 'appResp' || m.type === 'voteResp' || m.type === 'preVoteResp'
}

/**
 * The largest term, index or offset a peer may send. Far beyond any real log (2^48 elections or
 * entries), and far enough below 2^53 that counting up from it stays exact: a peer claiming term
 * 2^53-1 would otherwise push this node's next campaign to an unsafe term that every peer rejects.
 */
export const MAX_WIRE_NUMBER = 2 ** 48

const isIndex = (n: unknown): boolean => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= MAX_WIRE_NUMBER

/** Per type: the numeric fields (indexes, terms, offsets) and the flags a message must carry. */
const shapes: Record<MessageType, { numbers: readonly string[]; flags: readonly string[] }> = {
  vote: { numbers: ['logTerm', 'index'], flags: ['transfer'] },
  preVote: { numbers: ['logTerm', 'index'], flags: ['transfer'] },
  voteResp: { numbers: [], flags: ['reject'] },
  preVoteResp: { numbers: [], flags: ['reject'] },
  app: { numbers: ['logTerm', 'index', 'commit'], flags: [] },
  appResp: { numbers: ['index', 'rejectHint', 'logTerm'], flags: ['reject'] },
  heartbeat: { numbers: ['commit', 'readSeq'], flags: [] },
  heartbeatResp: { numbers: ['readSeq'], flags: [] },
  snap: { numbers: ['offset', 'totalBytes'], flags: ['done'] },
  snapResp: { numbers: ['index', 'offset'], flags: ['reject'] },
  timeoutNow: { numbers: [], flags: [] },
  readIndex: { numbers: [], flags: [] },
  readIndexResp: { numbers: ['index'], flags: [] },
}

const isNames = (v: unknown): boolean => Array.isArray(v) && v.every((n) => typeof n === 'string')
const isContext = (v: unknown): boolean => typeof v === 'string' || v instanceof Uint8Array

/**
 * Why a message from the network is malformed, or null if it looks sound. Checks shape, not meaning:
 * every field its type carries is present with its type, and numbers are safe integers up to MAX_WIRE_NUMBER.
 */
export function messageProblem(m: unknown): string | null {
  if (typeof m !== 'object' || m === null) return 'not an object'
  const x = m as Record<string, unknown>
  const shape = typeof x.type === 'string' && Object.hasOwn(shapes, x.type) ? shapes[x.type as MessageType] : undefined
  if (shape === undefined) return `unknown type ${String(x.type)}`
  if (typeof x.from !== 'string' || typeof x.to !== 'string') return 'from/to must be strings'
  if (!isIndex(x.term)) return 'bad term'
  for (const k of shape.numbers) if (!isIndex(x[k])) return `bad ${k}`
  for (const k of shape.flags) if (typeof x[k] !== 'boolean') return `bad ${k}`
  if (x.type === 'app') {
    if (!Array.isArray(x.entries)) return 'entries must be an array'
    let next = (x.index as number) + 1
    for (const e of x.entries as unknown[]) {
      const en = e as Record<string, unknown>
      if (typeof en !== 'object' || en === null || en.index !== next++ || !isIndex(en.term)) return 'entries not contiguous'
      if (!(en.data instanceof Uint8Array) || (en.kind !== 'normal' && en.kind !== 'config')) return 'bad entry'
    }
    if (next - 1 > MAX_WIRE_NUMBER) return 'bad index'
  }
  if (x.type === 'snap') {
    if (!(x.data instanceof Uint8Array)) return 'snapshot chunk data must be bytes'
    const meta = x.meta as Record<string, unknown> | undefined
    if (typeof meta !== 'object' || meta === null || !isIndex(meta.index) || !isIndex(meta.term)) return 'bad snapshot meta'
    const config = meta.config as Record<string, unknown> | undefined
    if (typeof config !== 'object' || config === null || !isNames(config.voters) || !isNames(config.learners)) return 'bad snapshot config'
  }
  if ((x.type === 'readIndex' || x.type === 'readIndexResp') && !isContext(x.ctx)) return 'bad read context'
  return null
}
