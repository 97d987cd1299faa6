import type { Transport, TransportHandler } from './transport.js'

/**
 * Several nodes in one process, connected without sockets. Frames are
 * delivered asynchronously (a microtask), in order per pair; a partition
 * drops them. For tests and single-process demos.
 */
export class MemoryNetwork {
  private readonly nodes = new Map<string, TransportHandler>()
  private readonly blocked = new Set<string>()

  transport(): Transport {
    return new MemoryTransport(this)
  }

  /** Drops frames both ways between `a` and `b` until `heal`. */
  partition(a: string, b: string): void {
    this.blocked.add(`${a}\u0000${b}`)
    this.blocked.add(`${b}\u0000${a}`)
  }

  heal(): void {
    this.blocked.clear()
  }

  /** @internal */
  attach(name: string, handler: TransportHandler): void {
    this.nodes.set(name, handler)
  }

  /** @internal */
  detach(name: string): void {
    this.nodes.delete(name)
    for (const other of this.nodes.values()) other.disconnected?.(name)
  }

  /** @internal */
  deliver(from: string, to: string, frame: Uint8Array): void {
    if (this.blocked.has(`${from}\u0000${to}`)) return
    const copy = frame.slice()
    queueMicrotask(() => {
      if (this.blocked.has(`${from}\u0000${to}`)) return
      this.nodes.get(to)?.receive(from, copy)
    })
  }
}

class MemoryTransport implements Transport {
  private self: string | null = null

  constructor(private readonly network: MemoryNetwork) {}

  async start(self: string, handler: TransportHandler): Promise<void> {
    this.self = self
    this.network.attach(self, handler)
  }

  send(node: string, frame: Uint8Array): void {
    if (this.self !== null) this.network.deliver(this.self, node, frame)
  }

  async stop(): Promise<void> {
    if (this.self !== null) this.network.detach(this.self)
    this.self = null
  }
}
