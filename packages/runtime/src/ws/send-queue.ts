/**
 * Frames waiting for a connection to a peer, in order. Bounded by bytes and
 * by count: a push that would exceed either is refused and the caller drops
 * the frame, so an unreachable peer never grows memory.
 */
export class SendQueue {
  private frames: Uint8Array[] = []
  private queuedBytes = 0

  constructor(
    private readonly maxBytes: number,
    private readonly maxFrames: number,
  ) {}

  /** False (and nothing queued) when the frame does not fit. */
  push(frame: Uint8Array): boolean {
    if (this.frames.length >= this.maxFrames) return false
    // An empty queue takes one frame of any size, so a frame below maxPayloadBytes can always be sent.
    if (this.frames.length > 0 && this.queuedBytes + frame.length > this.maxBytes) return false
    this.frames.push(frame)
    this.queuedBytes += frame.length
    return true
  }

  /** Removes and returns every queued frame, oldest first. */
  drain(): Uint8Array[] {
    const out = this.frames
    this.frames = []
    this.queuedBytes = 0
    return out
  }

  get length(): number {
    return this.frames.length
  }

  get bytes(): number {
    return this.queuedBytes
  }
}
