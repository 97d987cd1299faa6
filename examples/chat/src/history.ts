// The durable history of every room: a state machine replicated by one Raft
// group ("history") across the history members. Each room keeps its last
// HISTORY_PER_ROOM lines; a room's entity can be activated on any node after
// a crash and still read them. `apply` is deterministic (time from the log
// entry's meta, no I/O), as the Raft group requires.
//
// The room table is bounded and cannot be filled for good: a room is
// created by a signed-in user within a budget (ROOMS_PER_USER live rooms per
// user name, ROOMS_PER_ADDRESS per client address), and a room with no
// activity (no line, no member's presence reported by its room entity) for
// its TTL expires with its history. Expiry is judged by the log's clock (the
// proposing leader's system clock, never lower than an earlier entry's), so
// every replica, and every replay after a restart, drops the same rooms at
// the same entry.
//
// Appends are fenced: each carries the fencing token of the room activation
// that wrote it (its lease), and a room refuses a token lower than the
// highest it has taken, so a room left running on a node cut off from the
// others cannot write once its successor has.
import type { ApplyMeta, StateMachine } from '@troupe/raft'
import { isRaftGroupError } from '@troupe/raft'
import { EXPIRY_SCAN_EVERY_MS, HISTORY_PER_ROOM, MAX_ROOMS, ROOM_TTL_MS, ROOMS_PER_ADDRESS, ROOMS_PER_USER } from './limits.js'
import { ChatErrorCode } from './protocol.js'
import type { ChatMessage, RoomSummary } from './protocol.js'

/** Who creates a room: the signed-in user name and the client address key (`addressKey` of @troupe/runtime). */
export interface Creator {
  user: string
  addr: string
}

/**
 * `create`: opens the room if it does not exist (under the creator's budget).
 * `append`: stores a line, creating the room first if it expired meanwhile;
 *   `token` is the writing room activation's fencing token (0 without leases).
 *   `by`/`ttlMs` are absent only in entries written before rooms expired.
 * `touch`: the room's entity still has members; keeps an existing room alive.
 */
export type HistoryCommand =
  | { op: 'create'; room: string; by: Creator; ttlMs: number }
  | { op: 'append'; room: string; user: string; text: string; cid: string; token: number; by?: Creator; ttlMs?: number }
  | { op: 'touch'; room: string; token: number }
export type HistoryResult = ChatMessage | { created: boolean } | null
/** `room`: the room's lines, or null when there is no such room. `history`: the same, [] for no room. */
export type HistoryQuery = { op: 'history'; room: string } | { op: 'room'; room: string } | { op: 'rooms' }
export type HistoryQueryResult = ChatMessage[] | RoomSummary[] | null

interface RoomLog {
  /** Seq of the last line appended (0: none). */
  lastSeq: number
  /** The last lines, oldest first; at most HISTORY_PER_ROOM. */
  lines: ChatMessage[]
  /** The highest fencing token an append of this room carried. */
  fence: number
  /** Who created it ('' for rooms from before creators were recorded): counts against their budget while the room lives. */
  user: string
  addr: string
  /** Log time of the last line, touch or create. */
  activeMs: number
  /** The room expires once the log's clock passes activeMs + ttlMs. */
  ttlMs: number
}

type SnapshotV1 = { v: 1; rooms: Array<[string, number, ChatMessage[]]> }
type SnapshotV2 = { v: 2; rooms: Array<[string, number, ChatMessage[], number]> }
type SnapshotV3 = { v: 3; clockMs: number; scannedMs: number; rooms: Array<[string, RoomLog]> }

export class HistoryMachine implements StateMachine<HistoryCommand, HistoryResult, HistoryQuery, HistoryQueryResult> {
  private rooms = new Map<string, RoomLog>()
  /** The log's clock: the highest entry time applied. Invariant: never decreases. */
  private clockMs = 0
  /** When the last expiry scan ran (log time). */
  private scannedMs = 0

  apply(c: Extract<HistoryCommand, { op: 'append' }>, meta: ApplyMeta): ChatMessage
  apply(c: HistoryCommand, meta: ApplyMeta): HistoryResult
  apply(c: HistoryCommand, meta: ApplyMeta): HistoryResult {
    this.clockMs = Math.max(this.clockMs, meta.timeMs)
    if (this.clockMs - this.scannedMs >= EXPIRY_SCAN_EVERY_MS) this.expire()
    switch (c.op) {
      case 'create': {
        if (this.rooms.has(c.room)) return { created: false }
        this.open(c.room, c.by, c.ttlMs)
        return { created: true }
      }
      case 'touch': {
        const log = this.rooms.get(c.room)
        if (log === undefined) return null
        this.fenceCheck(c.room, log, c.token)
        log.activeMs = this.clockMs
        return null
      }
      case 'append':
        return this.append(c)
    }
  }

  query(q: HistoryQuery): HistoryQueryResult {
    if (q.op === 'history') return [...(this.rooms.get(q.room)?.lines ?? [])]
    if (q.op === 'room') {
      const log = this.rooms.get(q.room)
      return log === undefined ? null : [...log.lines]
    }
    return [...this.rooms].map(([name, log]) => ({ name, lastSeq: log.lastSeq })).sort((a, b) => (a.name < b.name ? -1 : 1))
  }

  snapshot(): SnapshotV3 {
    return { v: 3, clockMs: this.clockMs, scannedMs: this.scannedMs, rooms: [...this.rooms].map(([name, log]) => [name, { ...log, lines: [...log.lines] }]) }
  }

  restore(snapshot: unknown): void {
    const s = snapshot as SnapshotV1 | SnapshotV2 | SnapshotV3
    if ((s?.v !== 1 && s?.v !== 2 && s?.v !== 3) || !Array.isArray(s.rooms)) throw new Error('history snapshot: unknown format')
    if (s.v === 3) {
      this.rooms = new Map(s.rooms.map(([name, log]) => [name, { ...log, lines: [...log.lines] }]))
      this.clockMs = s.clockMs
      this.scannedMs = s.scannedMs
      return
    }
    // Rooms from before expiry: alive from their last line on, with the default TTL.
    this.rooms = new Map(
      s.rooms.map(([name, lastSeq, lines, fence]) => [name, { lastSeq, lines: [...lines], fence: fence ?? 0, user: '', addr: '', activeMs: lines.at(-1)?.timeMs ?? 0, ttlMs: ROOM_TTL_MS }]),
    )
    this.clockMs = Math.max(0, ...[...this.rooms.values()].map((r) => r.activeMs))
    this.scannedMs = this.clockMs
  }

  private append(c: Extract<HistoryCommand, { op: 'append' }>): ChatMessage {
    let log = this.rooms.get(c.room)
    if (log === undefined) log = this.open(c.room, c.by, c.ttlMs ?? ROOM_TTL_MS)
    const token = this.fenceCheck(c.room, log, c.token)
    log.fence = token
    log.activeMs = this.clockMs
    // A page retries a post it got no answer for (its node died): the same
    // user and cid within the kept lines is the same post, stored once.
    const earlier = log.lines.find((m) => m.cid === c.cid && m.user === c.user)
    if (earlier !== undefined) return earlier
    const msg: ChatMessage = { seq: log.lastSeq + 1, user: c.user, text: c.text, timeMs: this.clockMs, cid: c.cid }
    log.lastSeq = msg.seq
    log.lines.push(msg)
    if (log.lines.length > HISTORY_PER_ROOM) log.lines.splice(0, log.lines.length - HISTORY_PER_ROOM)
    return msg
  }

  /** Creates a room, after dropping expired ones, within the table's size and the creator's budget. */
  private open(room: string, by: Creator | undefined, ttlMs: number): RoomLog {
    this.expire()
    if (this.rooms.size >= MAX_ROOMS) throw new Error(`ROOM_LIMIT: the chat holds at most ${MAX_ROOMS} rooms; empty ones expire`)
    const user = typeof by?.user === 'string' ? by.user : ''
    const addr = typeof by?.addr === 'string' ? by.addr : ''
    if (by !== undefined) {
      let ofUser = 0
      let ofAddr = 0
      for (const log of this.rooms.values()) {
        if (log.user === user) ofUser++
        if (log.addr === addr) ofAddr++
      }
      if (ofUser >= ROOMS_PER_USER) throw new Error(`ROOM_BUDGET: ${user} has created ${ROOMS_PER_USER} rooms that still exist; an empty room expires, then you can create another`)
      if (ofAddr >= ROOMS_PER_ADDRESS) throw new Error(`ROOM_BUDGET: your address has created ${ROOMS_PER_ADDRESS} rooms that still exist; an empty room expires, then you can create another`)
    }
    const log: RoomLog = { lastSeq: 0, lines: [], fence: 0, user, addr, activeMs: this.clockMs, ttlMs: Number.isFinite(ttlMs) && ttlMs > 0 ? ttlMs : ROOM_TTL_MS }
    this.rooms.set(room, log)
    return log
  }

  /** The token to record, or FENCED when a newer activation has written this room. */
  private fenceCheck(room: string, log: RoomLog, raw: number): number {
    const token = Number.isSafeInteger(raw) && raw >= 0 ? raw : 0
    if (token < log.fence) throw new Error(`FENCED: room ${room} is now written by a newer activation (token ${log.fence}); this one (token ${token}) is stale`)
    return token
  }

  private expire(): void {
    this.scannedMs = this.clockMs
    for (const [name, log] of this.rooms) if (log.activeMs + log.ttlMs <= this.clockMs) this.rooms.delete(name)
  }
}

/** A history refusal the page can act on (a full table, a spent budget), or null for any other failure. */
export function historyRefusal(err: unknown): { code: ChatErrorCode; message: string } | null {
  if (!isRaftGroupError(err, 'COMMAND_FAILED')) return null
  const m = /^(ROOM_LIMIT|ROOM_BUDGET): (.*)$/s.exec(err.message)
  if (m === null) return null
  return { code: m[1] === 'ROOM_LIMIT' ? ChatErrorCode.RoomLimit : ChatErrorCode.RoomBudget, message: m[2]! }
}
