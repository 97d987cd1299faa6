interface Box {
  items: unknown[]
  bytes: number
}

/**
 * Raft messages of all groups on this node, batched per destination node.
 * The host flushes at the end of each actor turn, so one remote tell per
 * node per turn carries the messages of every group; a batch that reaches
 * `maxMessages` or about `maxBytes` goes out early.
 */
export class Outbox {
  private readonly boxes = new Map<string, Box>()
  messages = 0
  batches = 0

  constructor(
    private readonly maxMessages: number,
    private readonly maxBytes: number,
    private readonly deliver: (node: string, items: unknown[]) => void,
  ) {}

  add(node: string, group: string, msg: object): void {
    let box = this.boxes.get(node)
    if (box === undefined) this.boxes.set(node, (box = { items: [], bytes: 0 }))
    box.items.push([group, msg])
    box.bytes += estimateBytes(msg)
    this.messages++
    if (box.items.length >= this.maxMessages || box.bytes >= this.maxBytes) this.flush(node, box)
  }

  /** An empty batch (a liveness ping), unless something is queued for the node anyway. */
  ping(node: string): void {
    if (!this.boxes.get(node)?.items.length) this.flush(node, { items: [], bytes: 0 })
  }

  flushAll(): void {
    for (const [node, box] of this.boxes) if (box.items.length > 0) this.flush(node, box)
  }

  private flush(node: string, box: Box): void {
    const items = box.items
    box.items = []
    box.bytes = 0
    this.batches++
    this.deliver(node, items)
  }
}

function estimateBytes(msg: object): number {
  const m = msg as { entries?: Array<{ data: Uint8Array }>; data?: Uint8Array }
  let n = 64
  if (m.entries !== undefined) for (const e of m.entries) n += e.data.byteLength + 16
  if (m.data !== undefined) n += m.data.byteLength
  return n
}
