import { ActorSystem, ManualClock, MemoryNetwork } from '@troupe/runtime'
import type { Clock, TimerHandle, Transport, TransportHandler } from '@troupe/runtime'
import { Cluster } from '../src/cluster/cluster.js'
import type { ClusterOptions } from '../src/cluster/cluster.js'
import { settle } from './helpers.js'

/** Fast settings for tests on a manual clock (100 ms heartbeats and gossip). */
export const FAST: ClusterOptions = {
  heartbeatIntervalMs: 100,
  gossipIntervalMs: 100,
  acceptableHeartbeatPauseMs: 300,
  stableAfterMs: 1000,
  seedTimeoutMs: 300,
}

export interface TestNode {
  name: string
  system: ActorSystem
  cluster: Cluster
  /** Every cluster event this node emitted, as 'event:node'. */
  log: string[]
  clock: FreezableClock
  transport: FreezableTransport
}

/**
 * Several nodes on one MemoryNetwork and one ManualClock. Each node gets its
 * own view of the clock and transport that can be frozen, which models a
 * blocked event loop: no timer fires and no frame is handled until thawed.
 */
export class TestCluster {
  readonly net = new MemoryNetwork()
  readonly clock = new ManualClock(1_000_000)
  readonly nodes = new Map<string, TestNode>()

  constructor(readonly defaults: ClusterOptions = FAST) {}

  async add(name: string, options: ClusterOptions = {}): Promise<TestNode> {
    const clock = new FreezableClock(this.clock)
    const transport = new FreezableTransport(this.net.transport())
    let seed = hashSeed(name) + this.clock.now()
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) % 1_000_003) / 1_000_003
    const system = new ActorSystem({ name, clock, random, transport, askTimeoutMs: 60_000 })
    await system.start()
    const cluster = Cluster.start(system, { seeds: ['a'], ...this.defaults, ...options })
    const log: string[] = []
    record(cluster, log)
    const node = { name, system, cluster, log, clock, transport }
    this.nodes.set(name, node)
    return node
  }

  node(name: string): TestNode {
    const n = this.nodes.get(name)
    if (!n) throw new Error(`no node ${name}`)
    return n
  }

  /** Live (not terminated) clusters. */
  live(): TestNode[] {
    return [...this.nodes.values()].filter((n) => !n.cluster.isTerminated)
  }

  /** Moves time in steps, letting every actor run between steps. */
  async run(ms: number, stepMs = 10): Promise<void> {
    for (let t = 0; t < ms; t += stepMs) {
      this.clock.advance(Math.min(stepMs, ms - t))
      await settle(3)
    }
  }

  /** Runs until `pred` holds; fails with `what` after `maxMs` of virtual time. Returns the virtual ms it took. */
  async until(pred: () => boolean, maxMs: number, what: string, stepMs = 10): Promise<number> {
    const start = this.clock.now()
    await settle(3)
    while (!pred()) {
      if (this.clock.now() - start > maxMs) throw new Error(`not within ${maxMs} ms: ${what}\n${this.describe()}`)
      this.clock.advance(stepMs)
      await settle(3)
    }
    return this.clock.now() - start
  }

  /** Every live node sees exactly `names` up, and they agree on the leader. */
  allUp(names: string[]): boolean {
    const want = [...names].sort().join(',')
    const live = names.map((n) => this.nodes.get(n)).filter((n): n is TestNode => !!n && !n.cluster.isTerminated)
    if (live.length !== names.length) return false
    const leaders = new Set(live.map((n) => n.cluster.leader()))
    return live.every((n) => n.cluster.upMembers().join(',') === want && n.cluster.members().length === names.length) && leaders.size === 1
  }

  async startAll(names: string[], options: ClusterOptions = {}): Promise<void> {
    for (const n of names) await this.add(n, options)
    await this.until(() => this.allUp(names), 10_000, `${names.join(',')} all up`)
  }

  /** Cuts every link between the two groups. */
  partition(left: string[], right: string[]): void {
    for (const l of left) for (const r of right) this.net.partition(l, r)
  }

  async terminateAll(): Promise<void> {
    for (const n of this.nodes.values()) {
      n.clock.thaw()
      n.transport.thaw()
      await n.system.terminate()
    }
  }

  describe(): string {
    return [...this.nodes.values()]
      .map((n) => `${n.name}: ${n.cluster.isTerminated ? 'TERMINATED ' : ''}leader=${n.cluster.leader()} ${n.cluster.members().map((m) => `${m.node}#${m.incarnation}:${m.status}${m.reachable ? '' : '(unreachable)'}`).join(' ')}`)
      .join('\n')
  }
}

function record(cluster: Cluster, log: string[]): void {
  const memberEvents = ['memberJoined', 'memberUp', 'memberLeft', 'memberExited', 'memberDown', 'memberRemoved', 'unreachable', 'reachable'] as const
  for (const e of memberEvents) cluster.events.on(e, (...args: unknown[]) => void log.push(`${e}:${(args[0] as { node: string }).node}`))
  cluster.on('leaderChanged', (l) => void log.push(`leaderChanged:${l}`))
  cluster.on('selfDown', () => void log.push('selfDown'))
  cluster.on('selfRemoved', () => void log.push('selfRemoved'))
}

function hashSeed(s: string): number {
  let h = 17
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0
  return h
}

interface Wrapped {
  cancelled: boolean
  inner: TimerHandle
}

/** A node's view of the shared clock; while frozen, its timers are held back as a blocked loop would hold them. */
export class FreezableClock implements Clock {
  private frozen = false
  private held: Array<{ timer: Wrapped; fn: () => void }> = []

  constructor(private readonly base: ManualClock) {}

  now(): number {
    return this.base.now()
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const timer: Wrapped = { cancelled: false, inner: null as unknown as TimerHandle }
    timer.inner = this.base.setTimer(delayMs, () => {
      if (timer.cancelled) return
      if (this.frozen) this.held.push({ timer, fn })
      else fn()
    })
    return timer as unknown as TimerHandle
  }

  clearTimer(handle: TimerHandle): void {
    const timer = handle as unknown as Wrapped
    timer.cancelled = true
    this.base.clearTimer(timer.inner)
  }

  freeze(): void {
    this.frozen = true
  }

  /** Runs the held timers (late, in order), as a loop does when it unblocks. */
  thaw(): void {
    this.frozen = false
    const held = this.held
    this.held = []
    for (const { timer, fn } of held) if (!timer.cancelled) fn()
  }
}

/** A node's transport; while frozen, incoming frames wait (a blocked process reads nothing). */
export class FreezableTransport implements Transport {
  private frozen = false
  private held: Array<[string, Uint8Array]> = []
  private handler: TransportHandler | null = null

  constructor(private readonly inner: Transport) {}

  start(self: string, handler: TransportHandler): Promise<void> {
    this.handler = handler
    return this.inner.start(self, {
      receive: (from, frame) => (this.frozen ? void this.held.push([from, frame]) : handler.receive(from, frame)),
      disconnected: (node) => handler.disconnected?.(node),
    })
  }

  send(node: string, frame: Uint8Array): void {
    this.inner.send(node, frame)
  }

  stop(): Promise<void> {
    return this.inner.stop()
  }

  freeze(): void {
    this.frozen = true
  }

  thaw(): void {
    this.frozen = false
    const held = this.held
    this.held = []
    for (const [from, frame] of held) this.handler?.receive(from, frame)
  }
}
