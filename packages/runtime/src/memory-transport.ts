import type { Transport, TransportHandler } from './transport.js'
import { DEFAULT_VERSIONS, negotiateVersion } from './wire-version.js'
import type { VersionRange } from './wire-version.js'

/**
 * Several nodes in one process, connected without sockets. Frames are
 * delivered asynchronously (a microtask), in order per pair; a partition
 * drops them. For tests and single-process demos. Each transport may speak
 * its own range of wire versions (`transport({ versions })`): two nodes
 * whose ranges do not overlap cannot exchange frames (they are dropped, as
 * the WebSocket transport refuses the connection).
 */
export class MemoryNetwork {
  private readonly nodes = new Map<string, TransportHandler>()
  private readonly versions = new Map<string, VersionRange>()
  private readonly blocked = new Set<string>()

  transport(options: { versions?: VersionRange } = {}): Transport {
    return new MemoryTransport(this, options.versions ?? DEFAULT_VERSIONS)
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
  attach(name: string, handler: TransportHandler, versions: VersionRange): void {
    this.nodes.set(name, handler)
    this.versions.set(name, versions)
  }

  /** @internal The version `a` and `b` speak to each other; undefined when either is not attached or they share none. */
  versionBetween(a: string, b: string): number | undefined {
    const va = this.versions.get(a)
    const vb = this.versions.get(b)
    if (va === undefined || vb === undefined) return undefined
    return negotiateVersion(va, vb) ?? undefined
  }

  /** @internal */
  detach(name: string): void {
    this.nodes.delete(name)
    this.versions.delete(name)
    for (const other of this.nodes.values()) other.disconnected?.(name)
  }

  /** @internal */
  deliver(from: string, to: string, frame: Uint8Array): void {
    if (this.blocked.has(`${from}\u0000${to}`)) return
    if (this.nodes.has(to) && this.versionBetween(from, to) === undefined) return
    const copy = frame.slice()
    queueMicrotask(() => {
      if (this.blocked.has(`${from}\u0000${to}`)) return
      this.nodes.get(to)?.receive(from, copy)
    })
  }
}

class MemoryTransport implements Transport {
  private self: string | null = null

  constructor(
    private readonly network: MemoryNetwork,
    readonly versions: VersionRange,
  ) {}

  async start(self: string, handler: TransportHandler): Promise<void> {
    this.self = self
    this.network.attach(self, handler, this.versions)
  }

  peerVersion(node: string): number | undefined {
    return this.self === null ? undefined : this.network.versionBetween(this.self, node)
  }

  send(node: string, frame: Uint8Array): void {
    if (this.self !== null) this.network.deliver(this.self, node, frame)
  }

  async stop(): Promise<void> {
    if (this.self !== null) this.network.detach(this.self)
    this.self = null
  }
}
