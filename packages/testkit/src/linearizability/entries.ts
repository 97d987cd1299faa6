// The search's view of one partition: operations as call and return entries
// sorted by time, in doubly linked lists that entries can be lifted out of and
// put back in O(1) (dancing links, undone in reverse order), as in
// Wing & Gong / Lowe and Porcupine.
import type { Operation } from '../history.js'

export interface Entry {
  /** Index of the operation in the partition. */
  readonly op: number
  readonly isCall: boolean
  /** Rank in time order; at equal times calls come first (they overlap). */
  readonly pos: number
  /** For a finished operation's call: its return entry. Null for returns and info calls. */
  readonly match: Entry | null
  prev: Entry | null
  next: Entry | null
}

export interface EntryLists {
  /** Sentinel before the calls and returns of finished (ok) operations. */
  readonly main: Entry
  /**
   * Sentinel before the calls of info operations. They never return, so they
   * have no return entry and live in their own list: the search tries them
   * after the finished ones and may leave them out entirely (never happened).
   */
  readonly info: Entry
  readonly finiteCount: number
}

interface RawEntry {
  op: number
  isCall: boolean
  time: number
}

export function buildEntries(ops: readonly Operation<unknown, unknown>[]): EntryLists {
  const raw: RawEntry[] = []
  let finiteCount = 0
  ops.forEach((op, i) => {
    raw.push({ op: i, isCall: true, time: op.call })
    if (op.outcome === 'ok') {
      raw.push({ op: i, isCall: false, time: op.return })
      finiteCount++
    }
  })
  raw.sort((a, b) => a.time - b.time || Number(a.isCall === false) - Number(b.isCall === false) || a.op - b.op)

  // Build back to front so each call can point at its already-built return.
  const returns = new Map<number, Entry>()
  const built: Entry[] = new Array<Entry>(raw.length)
  for (let pos = raw.length - 1; pos >= 0; pos--) {
    const r = raw[pos] as RawEntry
    const match = r.isCall ? (returns.get(r.op) ?? null) : null
    const entry: Entry = { op: r.op, isCall: r.isCall, pos, match, prev: null, next: null }
    if (!r.isCall) returns.set(r.op, entry)
    built[pos] = entry
  }
  const main = sentinel()
  const info = sentinel()
  let mainTail = main
  let infoTail = info
  for (const entry of built) {
    if (entry.isCall && entry.match === null) infoTail = append(infoTail, entry)
    else mainTail = append(mainTail, entry)
  }
  return { main, info, finiteCount }
}

/** Removes a call (and its return, if any) from its list. */
export function lift(call: Entry): void {
  unlink(call)
  if (call.match !== null) unlink(call.match)
}

/** Undoes the matching `lift`; must be called in reverse order of lifts. */
export function unlift(call: Entry): void {
  if (call.match !== null) relink(call.match)
  relink(call)
}

function sentinel(): Entry {
  return { op: -1, isCall: false, pos: -1, match: null, prev: null, next: null }
}

function append(tail: Entry, entry: Entry): Entry {
  tail.next = entry
  entry.prev = tail
  return entry
}

// Leaves entry.prev/next intact so relink can restore it.
function unlink(entry: Entry): void {
  ;(entry.prev as Entry).next = entry.next
  if (entry.next !== null) entry.next.prev = entry.prev
}

function relink(entry: Entry): void {
  ;(entry.prev as Entry).next = entry
  if (entry.next !== null) entry.next.prev = entry
}
