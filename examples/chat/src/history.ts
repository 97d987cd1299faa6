// The durable history of every room: a state machine replicated by one Raft
// group ("history") across the history members. Each room keeps its last
// HISTORY_PER_ROOM lines; a room's entity can be activated on any node after
// a crash and still read them. `apply` is deterministic (time from the log
// entry's meta, no I/O), as the Raft group requires.
import type { ApplyMeta, StateMachine } from '@troupe/raft'
import { HISTORY_PER_ROOM, MAX_ROOMS } from './limits.js'
import type { ChatMessage, RoomSummary } from './protocol.js'

export type HistoryCommand = { op: 'append'; room: string; user: string; text: string; cid: string }
export type HistoryQuery = { op: 'history'; room: string } | { op: 'rooms' }
export type HistoryQueryResult = ChatMessage[] | RoomSummary[]

interface RoomLog {
  /** Seq of the last line appended (0: none). */
  lastSeq: number
  /** The last lines, oldest first; at most HISTORY_PER_ROOM. */
  lines: ChatMessage[]
}

type SnapshotV1 = { v: 1; rooms: Array<[string, number, ChatMessage[]]> }

export class HistoryMachine implements StateMachine<HistoryCommand, ChatMessage, HistoryQuery, HistoryQueryResult> {
  private rooms = new Map<string, RoomLog>()

  apply(c: HistoryCommand, meta: ApplyMeta): ChatMessage {
    let log = this.rooms.get(c.room)
    if (log === undefined) {
      if (this.rooms.size >= MAX_ROOMS) throw new Error(`ROOM_LIMIT: the chat holds at most ${MAX_ROOMS} rooms`)
      log = { lastSeq: 0, lines: [] }
      this.rooms.set(c.room, log)
    }
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

  snapshot(): SnapshotV1 {
    return { v: 1, rooms: [...this.rooms].map(([name, log]) => [name, log.lastSeq, log.lines]) }
  }

  restore(snapshot: unknown): void {
    const s = snapshot as SnapshotV1
    if (s?.v !== 1 || !Array.isArray(s.rooms)) throw new Error('history snapshot: unknown format')
    this.rooms = new Map(s.rooms.map(([name, lastSeq, lines]) => [name, { lastSeq, lines: [...lines] }]))
  }
}
