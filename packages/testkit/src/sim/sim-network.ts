import { TroupeError } from '@troupe/runtime'
import type { Transport, TransportHandler } from '@troupe/runtime'
import type { Prng } from '../prng.js'
import { DEFAULT_LINK, checkLinkConfig, sampleLatency } from './link-config.js'
import type { LinkConfig } from './link-config.js'
import type { SimNode, WorldHost } from './sim-node.js'
import { fnv1aBytes } from './trace.js'

/** A set of blocked directions; give it back to `restore` to undo just that cut. */
export interface Cut {
  readonly pairs: ReadonlyArray<readonly [from: string, to: string]>
  readonly isolated: readonly string[]
}

export interface NetworkStats {
  sent: number
  delivered: number
  dropped: number
  duplicated: number
  reordered: number
}

interface LinkState {
  bytesInFlight: number
  /** Arrival time of the last in-order frame: later frames never arrive before it. */
  lastArrival: number
  /** When the link finishes serialising the frames queued on it. */
  busyUntil: number
}

interface Endpoint {
  handler: TransportHandler
  epoch: number
}

const key = (from: string, to: string) => `${from}\u0000${to}`

/**
 * The simulated network between a world's nodes: every frame becomes a
 * delivery event on virtual time, subject to each link's latency, loss,
 * duplication, reordering and capacity, and to partitions. All choices draw
 * from one seeded stream, so a seed replays the same network behaviour.
 */
export class SimNetwork {
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, reordered: 0 }
  /** Largest frame a transport accepts; larger sends throw MESSAGE_TOO_LARGE. */
  maxFrameBytes = 16 * 1024 * 1024
  private defaults: LinkConfig = { ...DEFAULT_LINK }
  private readonly overrides = new Map<string, Partial<LinkConfig>>()
  private readonly links = new Map<string, LinkState>()
  private readonly blocked = new Map<string, number>()
  private readonly isolated = new Map<string, number>()
  private readonly endpoints = new Map<string, Endpoint>()

  /** @internal */
  constructor(
    private readonly host: WorldHost,
    private readonly rng: Prng,
  ) {}

  /** Changes the behaviour of every link without an override. */
  configure(config: Partial<LinkConfig>): void {
    checkLinkConfig(config)
    this.defaults = { ...this.defaults, ...config }
  }

  /** Overrides the behaviour of the directed link `from` → `to` (merged over the defaults). */
  setLink(from: string, to: string, config: Partial<LinkConfig>): void {
    checkLinkConfig(config)
    this.overrides.set(key(from, to), { ...this.overrides.get(key(from, to)), ...config })
  }

  /** Removes the link's override: it behaves like the defaults again. */
  clearLink(from: string, to: string): void {
    this.overrides.delete(key(from, to))
  }

  /** The override of `from` → `to`, if any (to put it back after changing it). */
  linkOverride(from: string, to: string): Partial<LinkConfig> | undefined {
    const o = this.overrides.get(key(from, to))
    return o ? { ...o } : undefined
  }

  /** The effective configuration of `from` → `to`. */
  link(from: string, to: string): LinkConfig {
    const o = this.overrides.get(key(from, to))
    return o ? { ...this.defaults, ...o } : this.defaults
  }

  /** Bytes sent on `from` → `to` that have not arrived or been dropped yet. */
  bytesInFlight(from: string, to: string): number {
    return this.links.get(key(from, to))?.bytesInFlight ?? 0
  }

  /** Cuts every node of `a` from every node of `b`, both ways. */
  partition(a: string | readonly string[], b: string | readonly string[]): Cut {
    const pairs: [string, string][] = []
    for (const x of [a].flat()) for (const y of [b].flat()) if (x !== y) pairs.push([x, y], [y, x])
    return this.cut(pairs, [])
  }

  /** Cuts only the direction `from` → `to` (an asymmetric partition). */
  block(from: string, to: string): Cut {
    return this.cut([[from, to]], [])
  }

  /** Cuts `node` from every other node, including nodes added later. */
  isolate(node: string): Cut {
    return this.cut([], [node])
  }

  /** Undoes one cut (other cuts of the same links stay). */
  restore(cut: Cut): void {
    for (const [from, to] of cut.pairs) decrement(this.blocked, key(from, to))
    for (const n of cut.isolated) decrement(this.isolated, n)
    this.host.record('-', `net:restore ${describeCut(cut)}`)
  }

  /** Removes every partition, block and isolation (link configurations stay). */
  heal(): void {
    this.blocked.clear()
    this.isolated.clear()
    this.host.record('-', 'net:heal')
  }

  /** True when frames from `from` to `to` are cut off. */
  isBlocked(from: string, to: string): boolean {
    return this.blocked.has(key(from, to)) || this.isolated.has(from) || this.isolated.has(to)
  }

  /** @internal a transport for the node's current incarnation. */
  transportFor(node: SimNode<any>): Transport {
    return new SimTransport(this, node, node.epoch)
  }

  /** @internal */
  attach(name: string, epoch: number, handler: TransportHandler): void {
    this.endpoints.set(name, { handler, epoch })
  }

  /**
   * @internal the node left. A graceful stop tells the others (like a closed
   * connection); a crash tells nobody: they find out by timing out.
   */
  detach(name: string, epoch: number | null, graceful: boolean): void {
    const ep = this.endpoints.get(name)
    if (!ep || (epoch !== null && ep.epoch !== epoch)) return
    this.endpoints.delete(name)
    if (!graceful) return
    for (const [other, o] of this.endpoints) {
      this.host.schedule(this.host.now, this.host.node(other) ?? null, `disconnected ${name}`, () => {
        if (this.endpoints.get(other) === o) o.handler.disconnected?.(name)
      })
    }
  }

  /** @internal */
  send(from: string, to: string, frame: Uint8Array): void {
    if (frame.length > this.maxFrameBytes) {
      throw new TroupeError('MESSAGE_TOO_LARGE', `frame of ${frame.length} bytes to ${to} exceeds the network's ${this.maxFrameBytes}`)
    }
    this.stats.sent++
    const hash = fnv1aBytes(frame).toString(16)
    const what = `send>${to} ${frame.length}B ${hash}`
    if (this.isBlocked(from, to)) return this.drop(from, `${what} partitioned`)
    const dst = this.endpoints.get(to)
    const node = this.host.node(to)
    if (!dst || !node) return this.drop(from, `${what} unreachable`)
    const config = this.link(from, to)
    if (this.rng.chance(config.dropProbability)) return this.drop(from, `${what} lost`)
    const copies = this.rng.chance(config.duplicateProbability) ? 2 : 1
    if (copies === 2) this.stats.duplicated++
    const link = this.linkState(from, to)
    for (let copy = 0; copy < copies; copy++) {
      if (link.bytesInFlight + frame.length > config.maxBytesInFlight) {
        this.drop(from, `${what} queue-full`)
        continue
      }
      const departure = Math.max(this.host.now, link.busyUntil) + (Number.isFinite(config.bandwidthBytesPerMs) ? frame.length / config.bandwidthBytesPerMs : 0)
      link.busyUntil = departure
      let arrival = departure + sampleLatency(config.latencyMs, this.rng)
      let note = copy === 1 ? 'dup' : ''
      if (copy === 0 && config.reorderProbability > 0 && this.rng.chance(config.reorderProbability)) {
        // Held back past later frames; it does not hold them up in turn.
        arrival += Math.round(this.rng.next() * config.reorderMaxMs * 1000) / 1000
        this.stats.reordered++
        note = 'late'
      } else if (copy === 0) {
        arrival = Math.max(arrival, link.lastArrival)
        link.lastArrival = arrival
      }
      arrival = Math.round(arrival * 1000) / 1000
      link.bytesInFlight += frame.length
      this.host.record(from, `${what} @${arrival}${note ? ` ${note}` : ''}`)
      this.schedule(from, to, dst.epoch, node, arrival, frame.slice(), hash, link)
    }
  }

  private schedule(from: string, to: string, epoch: number, node: SimNode<any>, at: number, frame: Uint8Array, hash: string, link: LinkState): void {
    const landed = () => {
      link.bytesInFlight -= frame.length
    }
    this.host.schedule(
      at,
      node,
      `deliver ${from}>${to} ${frame.length}B ${hash}`,
      () => {
        landed()
        const ep = this.endpoints.get(to)
        if (this.isBlocked(from, to)) return this.drop(to, `recv<${from} ${hash} partitioned`)
        if (!ep || ep.epoch !== epoch) return this.drop(to, `recv<${from} ${hash} gone`)
        this.stats.delivered++
        ep.handler.receive(from, frame)
      },
      () => {
        landed()
        this.stats.dropped++
      },
    )
  }

  private drop(node: string, what: string): void {
    this.stats.dropped++
    this.host.record(node, `drop ${what}`)
  }

  private cut(pairs: [string, string][], isolated: string[]): Cut {
    for (const [from, to] of pairs) this.blocked.set(key(from, to), (this.blocked.get(key(from, to)) ?? 0) + 1)
    for (const n of isolated) this.isolated.set(n, (this.isolated.get(n) ?? 0) + 1)
    const cut = { pairs, isolated }
    this.host.record('-', `net:cut ${describeCut(cut)}`)
    return cut
  }

  private linkState(from: string, to: string): LinkState {
    let s = this.links.get(key(from, to))
    if (s === undefined) {
      s = { bytesInFlight: 0, lastArrival: -Infinity, busyUntil: -Infinity }
      this.links.set(key(from, to), s)
    }
    return s
  }
}

function decrement(map: Map<string, number>, k: string): void {
  const n = map.get(k)
  if (n === undefined) return
  if (n <= 1) map.delete(k)
  else map.set(k, n - 1)
}

function describeCut(cut: Cut): string {
  const parts = cut.pairs.map(([a, b]) => `${a}>${b}`)
  for (const n of cut.isolated) parts.push(`isolate ${n}`)
  return parts.join(',')
}

/** One incarnation's endpoint: inert once that incarnation crashed or stopped. */
class SimTransport implements Transport {
  private started = false

  constructor(
    private readonly network: SimNetwork,
    private readonly node: SimNode<any>,
    private readonly epoch: number,
  ) {}

  private get alive(): boolean {
    return this.node.epoch === this.epoch
  }

  async start(self: string, handler: TransportHandler): Promise<void> {
    if (self !== this.node.name) throw new TroupeError('INVALID_ARGUMENT', `transport of node ${this.node.name} started as '${self}'`)
    if (!this.alive) return
    this.started = true
    this.network.attach(self, this.epoch, handler)
  }

  send(node: string, frame: Uint8Array): void {
    if (!this.started || !this.alive) return
    this.network.send(this.node.name, node, frame)
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    this.network.detach(this.node.name, this.epoch, true)
  }
}
