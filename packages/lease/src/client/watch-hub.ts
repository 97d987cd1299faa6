import type { Clock, TimerHandle } from '@troupe/runtime'
import type { LeaseQuery, LeaseQueryResult, NameInfo } from '../core/commands.js'
import type { WatchAck, WatchBeat, WatchEvent } from '../server/inbox-protocol.js'
import { LeaseError } from '../lease-error.js'
import { WatchStream } from './watch-stream.js'

export interface WatchHubDeps {
  clock: Clock
  /** This client's inbox address (where members push). */
  inbox: string
  /** A linearizable read of the group; rejects with the group's error. */
  read(query: LeaseQuery): Promise<LeaseQueryResult>
  retryable(err: unknown): boolean
  /** Turns a read failure that retrying cannot fix into what the watch throws. */
  fatal(err: unknown): unknown
  backoffMs(failures: number): number
  sleep(ms: number): Promise<void>
  /** Sends an acknowledgement to a member's watch actor. */
  ack(to: string, ack: WatchAck): void
  /** No event or beat from the member for this long: read again (and register anew). */
  timeoutMs: number
  /** Watches open at once on this client. */
  maxWatches: number
}

/** Out-of-order events kept per subscription while an earlier one is missing. */
const MAX_AHEAD = 64

/** A watch's registration with one member: pushes from `service` with subscription `subId`. */
interface Binding {
  stream: WatchStream
  subId: number
  /** The member's watch actor that accepted it; null while the registering read is out. */
  service: string | null
  /** Seq of the last event applied (the registering read is 0). */
  seq: number
  heardAtMs: number
  /** Events that arrived before the registering read answered, or ahead of a missing one. */
  early: WatchEvent[]
  pollMs: number
}

/**
 * The client side of pushed watches. A watch registers with a read that
 * carries its inbox (`get` + `watch`): the replica that serves the read
 * returns the name's state and pushes every later change it applies, each
 * with the next seq. The member's beats say which seq the client should
 * have reached; a gap, a beat that never comes (`timeoutMs`), or a member
 * that refuses, sends the watch back to a read, which re-registers. So an
 * idle watch costs no reads, and no change is missed for good: the watch
 * converges to the latest state and never goes back (`WatchStream`).
 */
export class WatchHub {
  private readonly bySubId = new Map<number, Binding>()
  private readonly bindings = new Map<WatchStream, Binding>()
  private nextSubId = 1
  private timer: TimerHandle | null = null
  readonly stats = { registrations: 0, resyncs: 0, events: 0 }

  constructor(private readonly deps: WatchHubDeps) {}

  get size(): number {
    return this.bindings.size
  }

  /** Starts watching `name`: the stream gets its state now and on every holder change. */
  open(name: string, pollMs: number): WatchStream {
    if (this.bindings.size >= this.deps.maxWatches) throw new LeaseError('OVERLOADED', `${this.bindings.size} watches are open (maxWatches)`)
    const stream = new WatchStream(name)
    const binding: Binding = { stream, subId: 0, service: null, seq: 0, heardAtMs: this.deps.clock.now(), early: [], pollMs }
    this.bindings.set(stream, binding)
    void this.register(binding)
    this.armCheck()
    return stream
  }

  close(stream: WatchStream): void {
    const binding = this.bindings.get(stream)
    stream.close()
    if (binding === undefined) return
    this.bindings.delete(stream)
    this.bySubId.delete(binding.subId)
    if (this.bindings.size === 0) this.disarmCheck()
  }

  closeAll(): void {
    for (const stream of [...this.bindings.keys()]) this.close(stream)
  }

  onEvent(event: WatchEvent): void {
    const b = this.bySubId.get(event.subId)
    if (b === undefined) return
    if (b.service === null) {
      if (b.early.length < MAX_AHEAD) b.early.push(event)
      return
    }
    if (event.from !== b.service) return // a copy registered by a retried read elsewhere
    this.stats.events++
    this.apply(b, event)
  }

  onBeat(beat: WatchBeat): void {
    const keep: number[] = []
    const drop: number[] = []
    const now = this.deps.clock.now()
    const behind: Binding[] = []
    for (const entry of beat.subs) {
      if (!Array.isArray(entry)) continue
      const [subId, seq] = entry
      const b = this.bySubId.get(subId)
      if (b === undefined || (b.service !== null && b.service !== beat.from)) {
        drop.push(subId)
        continue
      }
      keep.push(subId)
      if (b.service === null) continue // still registering: the read's answer says whether this member is the one
      b.heardAtMs = now
      if (b.seq < seq) behind.push(b)
    }
    this.deps.ack(beat.from, { inbox: this.deps.inbox, keep, drop })
    for (const b of behind) this.resync(b)
  }

  // ---- registration ----

  private async register(b: Binding): Promise<void> {
    this.bySubId.delete(b.subId)
    b.subId = this.nextSubId++
    b.service = null
    b.seq = 0
    b.early = []
    this.bySubId.set(b.subId, b)
    this.stats.registrations++
    let result: LeaseQueryResult | null = null
    for (let failures = 0; result === null; ) {
      if (b.stream.closed) return
      try {
        result = await this.deps.read({ op: 'get', name: b.stream.name, watch: { inbox: this.deps.inbox, subId: b.subId } })
      } catch (err) {
        if (!this.deps.retryable(err)) return b.stream.fail(this.deps.fatal(err))
        await this.deps.sleep(this.deps.backoffMs(failures++))
      }
    }
    if (b.stream.closed || this.bindings.get(b.stream) !== b) return
    const { watch, ...info } = result
    b.stream.offer(info as NameInfo)
    b.heardAtMs = this.deps.clock.now()
    if (watch?.status === 'accepted') {
      b.service = watch.by
      const early = b.early.filter((e) => e.from === watch.by)
      b.early = []
      for (const e of early) this.apply(b, e)
      return
    }
    // Refused (the member's watcher limits, or no service there): read again after pollMs.
    this.bySubId.delete(b.subId)
    await this.deps.sleep(b.pollMs)
    if (!b.stream.closed && this.bindings.get(b.stream) === b) return this.register(b)
  }

  /** Applies events in seq order; one missing for too long (or too many ahead of it) means a read. */
  private apply(b: Binding, event: WatchEvent): void {
    if (event.seq <= b.seq) return
    b.heardAtMs = this.deps.clock.now()
    if (event.seq > b.seq + 1) {
      b.early.push(event)
      if (b.early.length > MAX_AHEAD) this.resync(b)
      return
    }
    b.seq = event.seq
    b.stream.offer(event.info)
    for (;;) {
      const i = b.early.findIndex((e) => e.seq === b.seq + 1)
      if (i < 0) break
      const [next] = b.early.splice(i, 1)
      b.seq = next!.seq
      b.stream.offer(next!.info)
    }
    b.early = b.early.filter((e) => e.seq > b.seq)
  }

  private resync(b: Binding): void {
    if (b.service === null || b.stream.closed) return // already reading
    this.stats.resyncs++
    void this.register(b)
  }

  // ---- liveness ----

  private armCheck(): void {
    if (this.timer !== null) return
    const every = Math.max(1, this.deps.timeoutMs / 2)
    this.timer = this.deps.clock.setTimer(every, () => {
      this.timer = null
      const staleBefore = this.deps.clock.now() - this.deps.timeoutMs
      for (const b of this.bindings.values()) if (b.service !== null && b.heardAtMs < staleBefore) this.resync(b)
      if (this.bindings.size > 0) this.armCheck()
    })
  }

  private disarmCheck(): void {
    if (this.timer !== null) this.deps.clock.clearTimer(this.timer)
    this.timer = null
  }
}
