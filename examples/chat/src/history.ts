// The durable history of every room: a state machine replicated by one Raft
// group ("history") across the history members. Each room keeps its last
// HISTORY_PER_ROOM lines; a room's entity can be activated on any node after
// a crash and still read them. `apply` is deterministic (time from the log
// entry's meta, no I/O), as the Raft group requires.
//
// Appends are fenced: each carries the fencing token of the room activation
// that wrote it (its lease), and a room refuses a token lower than the
// highest it has taken, so a room left running on a node cut off from the
// others cannot write once its successor has.
import type { ApplyMeta, StateMachine } from '@troupe/raft'
import { HISTORY_PER_ROOM, MAX_ROOMS } from './limits.js'
import type { ChatMessage, RoomSummary } from './protocol.js'

/** `token`: the writing room activation's fencing token (0 when rooms run without leases). */
export type HistoryCommand = { op: 'append'; room: string; user: string; text: string; cid: string; token: number }
export type HistoryQuery = { op: 'history'; room: string } | { op: 'rooms' }
export type HistoryQueryResult = ChatMessage[] | RoomSummary[]

interface RoomLog {
  /** Seq of the last line appended (0: none). */
  lastSeq: number
  /** The last lines, oldest first; at most HISTORY_PER_ROOM. */
  lines: ChatMessage[]
  /** The highest fencing token an append of this room carried. */
  fence: number
}

type SnapshotV1 = { v: 1; rooms: Array<[string, number, ChatMessage[]]> }
type SnapshotV2 = { v: 2; rooms: Array<[string, number, ChatMessage[], number]> }

export class HistoryMachine implements StateMachine<HistoryCommand, ChatMessage, HistoryQuery, HistoryQueryResult> {
  private rooms = new Map<string, RoomLog>()

  apply(c: HistoryCommand, meta: ApplyMeta): ChatMessage {
    let log = this.rooms.get(c.room)
    if (log === undefined) {
      if (this.rooms.size >= MAX_ROOMS) throw new Error(`ROOM_LIMIT: the chat holds at most ${MAX_ROOMS} rooms`)
      log = { lastSeq: 0, lines: [], fence: 0 }
      this.rooms.set(c.room, log)
    }
    const token = Number.isSafeInteger(c.token) && c.token >= 0 ? c.token : 0
    if (token < log.fence) throw new Error(`FENCED: room ${c.room} is now written by a newer activation (token ${log.fence}); this one (token ${token}) is stale`)
    log.fence = token
    // A page retries a post it got no answer for (its node died): the same
    // user and cid within the kept lines is the same post, stored once.
    const earlier = log.lines.find((m) => m.cid === c.cid && m.user === c.user)
    if (earlier !== undefined) return earlier
    const msg: ChatMessage = { seq: log.lastSeq + 1, user: c.user, text: c.text, timeMs: meta.timeMs, cid: c.cid }
    log.lastSeq = msg.seq
    log.lines.push(msg)
    if (log.lines.length > HISTORY_PER_ROOM) log.lines.splice(0, log.lines.length - HISTORY_PER_ROOM)
    return msg
  }

  query(q: HistoryQuery): HistoryQueryResult {
    if (q.op === 'history') return [...(this.rooms.get(q.room)?.lines ?? [])]
    return [...this.rooms].map(([name, log]) => ({ name, lastSeq: log.lastSeq })).sort((a, b) => (a.name < b.name ? -1 : 1))
  }

  snapshot(): SnapshotV2 {
    return { v: 2, rooms: [...this.rooms].map(([name, log]) => [name, log.lastSeq, log.lines, log.fence]) }
  }

  restore(snapshot: unknown): void {
    const s = snapshot as SnapshotV1 | SnapshotV2
    if ((s?.v !== 1 && s?.v !== 2) || !Array.isArray(s.rooms)) throw new Error('history snapshot: unknown format')
    this.rooms = new Map(s.rooms.map(([name, lastSeq, lines, fence]) => [name, { lastSeq, lines: [...lines], fence: fence ?? 0 }]))
  }
}
