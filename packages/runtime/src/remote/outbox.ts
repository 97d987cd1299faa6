import { TroupeError } from '../errors.js'
import type { Transport } from '../transport.js'
import type { Codec } from './codec.js'

export interface OutboxLimits {
  /** Largest encoded envelope; larger ones throw MESSAGE_TOO_LARGE. */
  readonly maxMessageBytes: number
  /** Envelopes coalesced into one frame before it is sent. */
  readonly maxEnvelopes: number
  /** Bytes coalesced into one frame before it is sent. */
  readonly maxFrameBytes: number
  /** How the end-of-turn flush is scheduled. */
  readonly scheduleFlush: (fn: () => void) => void
}

interface Box {
  parts: Uint8Array[]
  bytes: number
}

/**
 * Outgoing envelopes, encoded and coalesced per node into one frame per turn
 * (or sooner, when a frame reaches its envelope or byte limit).
 */
export class Outbox {
  private readonly boxes = new Map<string, Box>()
  private flushScheduled = false
  private halted = false
  private readonly flushNow = () => this.flush()

  constructor(
    private readonly codec: Codec,
    private readonly transport: Transport,
    private readonly limits: OutboxLimits,
    /** A frame the transport refused: its envelopes are lost. */
    private readonly dropped: (to: string, reason: string) => void,
  ) {}

  /** Encodes `envelope` for `node`; throws MESSAGE_TOO_LARGE (or a codec error) and queues nothing then. */
  enqueue(node: string, envelope: unknown[]): void {
    if (this.halted) return
    const bytes = this.codec.encode(envelope)
    const { maxMessageBytes, maxEnvelopes, maxFrameBytes } = this.limits
    if (bytes.length > maxMessageBytes) {
      throw new TroupeError('MESSAGE_TOO_LARGE', `message of ${bytes.length} bytes to ${node} exceeds maxMessageBytes ${maxMessageBytes}`)
    }
    let box = this.boxes.get(node)
    if (box === undefined) {
      box = { parts: [], bytes: 0 }
      this.boxes.set(node, box)
    }
    box.parts.push(bytes)
    box.bytes += bytes.length
    if (box.parts.length >= maxEnvelopes || box.bytes >= maxFrameBytes) this.flushNode(node, box)
    else if (!this.flushScheduled) {
      this.flushScheduled = true
      this.limits.scheduleFlush(this.flushNow)
    }
  }

  /**
   * Sends each node's frame in the order the nodes got their first envelope
   * since the last flush (entries are removed as they go), so what a turn
   * produced first leaves first: an answer to a client is not queued behind
   * the replication traffic the same turn produced after it.
   */
  flush(): void {
    this.flushScheduled = false
    for (const [node, box] of this.boxes) {
      this.boxes.delete(node)
      if (box.parts.length > 0) this.flushNode(node, box)
    }
  }

  /** Forgets what is queued for `node` (it is down). */
  discard(node: string): void {
    this.boxes.delete(node)
  }

  /** Sends nothing more (a crashed node). */
  halt(): void {
    this.halted = true
    this.boxes.clear()
  }

  private flushNode(node: string, box: Box): void {
    const frame = box.parts.length === 1 ? box.parts[0] : Buffer.concat(box.parts, box.bytes)
    box.parts = []
    box.bytes = 0
    try {
      this.transport.send(node, frame)
    } catch (err) {
      // The envelopes are lost like any message on a failed link; asks time out.
      this.dropped(node, `frame of ${frame.length} bytes lost: ${(err as Error).message}`)
    }
  }
}
