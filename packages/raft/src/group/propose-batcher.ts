import { MAX_PROPOSE_BATCH_BYTES, MAX_PROPOSE_BATCH_ITEMS, errorReply, type HostReply, type ProposeItem } from './host-protocol.js'

/** One attempt on the host: 'propose' with a single item's fields, or 'proposeBatch'. Never rejects for operating failures. */
export type HostAsk = (kind: 'propose' | 'proposeBatch', payload: object, attemptMs: number) => Promise<HostReply>

interface Waiter {
  item: ProposeItem
  resolve: (r: HostReply) => void
  reject: (err: unknown) => void
}

interface Batch {
  waiters: Waiter[]
  bytes: number
}

/**
 * Gathers the proposal attempts a handle makes in one turn into one
 * request message to its host, which answers with one reply holding each
 * item's reply: per proposal, one message and one reply fewer on each hop,
 * and one ask (and its timer) in place of many. Only attempts of the same
 * length (to the ms) share a batch, so each keeps its own deadline.
 */
export class ProposeBatcher {
  private readonly open = new Map<number, Batch>()
  private flushQueued = false

  constructor(
    private readonly group: string,
    private readonly ask: HostAsk,
  ) {}

  /** Sends `item` (one attempt, `timeoutMs` long) with the others of this turn; resolves with its own reply. */
  send(item: ProposeItem, bytes: number): Promise<HostReply> {
    const key = Math.round(item.timeoutMs)
    let batch = this.open.get(key)
    if (batch === undefined) this.open.set(key, (batch = { waiters: [], bytes: 0 }))
    const b = batch
    const reply = new Promise<HostReply>((resolve, reject) => b.waiters.push({ item, resolve, reject }))
    b.bytes += bytes
    if (b.waiters.length >= MAX_PROPOSE_BATCH_ITEMS || b.bytes >= MAX_PROPOSE_BATCH_BYTES) {
      this.open.delete(key)
      this.dispatch(b.waiters)
    } else if (!this.flushQueued) {
      // After the work already queued in this turn: replies of one batch resume their callers together.
      this.flushQueued = true
      queueMicrotask(() => this.flush())
    }
    return reply
  }

  private flush(): void {
    this.flushQueued = false
    const batches = [...this.open.values()]
    this.open.clear()
    for (const b of batches) this.dispatch(b.waiters)
  }

  private dispatch(waiters: Waiter[]): void {
    if (waiters.length === 1) {
      const w = waiters[0]!
      const i = w.item
      const payload = { group: this.group, timeoutMs: i.timeoutMs, forwarded: false, clientId: i.clientId, seq: i.seq, ackedBelow: i.ackedBelow, established: i.established, command: i.command }
      this.ask('propose', payload, i.timeoutMs).then(w.resolve, w.reject)
      return
    }
    let timeoutMs = 0
    const items = new Array<ProposeItem>(waiters.length)
    for (let k = 0; k < waiters.length; k++) {
      items[k] = waiters[k]!.item
      timeoutMs = Math.max(timeoutMs, items[k]!.timeoutMs)
    }
    this.ask('proposeBatch', { group: this.group, timeoutMs, forwarded: false, items }, timeoutMs).then(
      (r) => spread(r, waiters),
      (err) => {
        for (const w of waiters) w.reject(err)
      },
    )
  }
}

/** Hands each waiter its item's reply; a reply for the whole batch (an error) goes to every item. */
function spread(r: HostReply, waiters: Waiter[]): void {
  if (!r.ok) {
    for (const w of waiters) w.resolve(r)
    return
  }
  const replies = r.value
  if (!Array.isArray(replies) || replies.length !== waiters.length) {
    const bad = errorReply('NOT_LEADER', 'malformed batch reply', null, true)
    for (const w of waiters) w.resolve(bad)
    return
  }
  for (let k = 0; k < waiters.length; k++) {
    const x = replies[k] as HostReply | null
    const ok = typeof x === 'object' && x !== null && (x.ok === true || (x.ok === false && typeof x.code === 'string' && typeof x.retry === 'boolean'))
    waiters[k]!.resolve(ok ? x : errorReply('NOT_LEADER', 'malformed item in a batch reply', null, true))
  }
}
