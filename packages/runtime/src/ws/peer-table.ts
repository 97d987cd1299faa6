import { backoffDelayMs } from '../backoff.js'
import type { BackoffPolicy } from '../backoff.js'
import type { TimerHandle } from '../clock.js'
import type { Connection } from './connection.js'
import { LogThrottle } from './log.js'
import { SendQueue } from './send-queue.js'

/** Everything the transport knows about one peer node. */
export class Peer {
  /** Where to dial it; null for a peer known only because it dialed us. */
  url: string | null = null
  /** The one connection data flows on. Invariant: null or state 'open'. */
  active: Connection | null = null
  /** Our outbound dial still handshaking. Invariant: null or state 'handshaking'. */
  dialing: Connection | null = null
  /** Frames sent while there was no active connection, flushed in order when one opens. */
  readonly queue: SendQueue
  dialTimer: TimerHandle | null = null
  /** No dial before this time (after a failed one). */
  nextDialAtMs = 0
  /** Dropped frames since the last connection opened, logged sparingly. */
  drops = new LogThrottle()
  /** Failed dials since a connection last opened. */
  private dialFailures = 0
  private readonly redial: BackoffPolicy

  constructor(
    readonly name: string,
    limits: { maxBufferedBytes: number; maxQueuedFrames: number; reconnect: { minMs: number; maxMs: number } },
    private readonly random: () => number,
  ) {
    this.queue = new SendQueue(limits.maxBufferedBytes, limits.maxQueuedFrames)
    this.redial = { minMs: limits.reconnect.minMs, maxMs: limits.reconnect.maxMs, jitter: 'equal', maxExponent: 30 }
  }

  /**
   * A dial failed: the wait before the next one, counting the failure. The
   * n-th consecutive failure waits a random time in [d/2, d), d = min(maxMs,
   * minMs · 2^n): the cap bounds the wait, the jitter keeps nodes that lost a
   * peer together from redialing in lockstep.
   */
  redialDelayMs(): number {
    return backoffDelayMs(this.redial, this.dialFailures++, this.random)
  }

  /** A connection opened: the next failed dial waits minMs again (with jitter). */
  connected(): void {
    this.dialFailures = 0
  }

  /** Nothing left to remember: no address, no connection, nothing queued. */
  get idle(): boolean {
    return this.url === null && this.active === null && this.dialing === null && this.queue.length === 0 && this.dialTimer === null
  }
}

/** The peers by name. Only authenticated or configured peers get an entry, so strangers cannot grow it. */
export class PeerTable {
  private readonly peers = new Map<string, Peer>()

  constructor(private readonly make: (name: string) => Peer) {}

  get(name: string): Peer | undefined {
    return this.peers.get(name)
  }

  ensure(name: string): Peer {
    let peer = this.peers.get(name)
    if (peer === undefined) {
      peer = this.make(name)
      this.peers.set(name, peer)
    }
    return peer
  }

  /** Drops the entry when nothing about the peer is worth keeping. */
  prune(peer: Peer): void {
    if (peer.idle && this.peers.get(peer.name) === peer) this.peers.delete(peer.name)
  }

  values(): IterableIterator<Peer> {
    return this.peers.values()
  }

  get size(): number {
    return this.peers.size
  }
}
