import { ActorSystem, MemoryNetwork, defineActor } from '@troupe/runtime'
import type { ActorDef, Clock } from '@troupe/runtime'
import { Sharding, entityId } from '../src/sharding/index.js'
import type { ShardingOptions } from '../src/sharding/index.js'
import { FixedMembershipView as FakeView } from '../src/cluster/view.js'

/** A membership view the test moves by hand. */
export { FakeView }

/**
 * Where entities are alive, from their own onStart/onStop: the ground truth
 * for "active on at most one node".
 */
export class ActivationTracker {
  readonly active = new Map<string, Set<string>>()
  readonly activations = new Map<string, number>()
  /** Ids seen active on two nodes at once. */
  readonly doubles: string[] = []
  /** What entities handled, in order: [node, id, payload]. */
  readonly handled: Array<{ node: string; id: string; from: string; seq: number }> = []

  started(node: string, id: string): void {
    const set = this.active.get(id) ?? new Set<string>()
    set.add(node)
    this.active.set(id, set)
    if (set.size > 1) this.doubles.push(id)
    this.activations.set(node, (this.activations.get(node) ?? 0) + 1)
  }

  stopped(node: string, id: string): void {
    const set = this.active.get(id)
    set?.delete(node)
    if (set?.size === 0) this.active.delete(id)
  }

  /** Nodes `id` is active on, ignoring `except` (e.g. a crashed node). */
  where(id: string, except: string[] = []): string[] {
    return [...(this.active.get(id) ?? [])].filter((n) => !except.includes(n))
  }

  activeOn(node: string): number {
    let n = 0
    for (const nodes of this.active.values()) if (nodes.has(node)) n++
    return n
  }
}

export function recorderKind(tracker: ActivationTracker, name = 'recorder') {
  return defineActor({
    name,
    initial: (ctx) => ({ id: entityId(ctx), n: 0 }),
    onStart: (s, ctx) => tracker.started(ctx.system.name, s.id),
    onStop: (s, ctx) => tracker.stopped(ctx.system.name, s.id),
    handlers: {
      add(s, by: number) {
        s.n += by
        return s.n
      },
      get: (s) => s.n,
      where: (_s, _: void, ctx) => ctx.system.name,
      record(s, p: { from: string; seq: number }, ctx) {
        tracker.handled.push({ node: ctx.system.name, id: s.id, from: p.from, seq: p.seq })
      },
      async slow(_s, p: { gate: Promise<void> }) {
        await p.gate
      },
    },
  })
}

export interface Node {
  name: string
  system: ActorSystem
  view: FakeView
  sharding: Sharding
}

export class TestCluster {
  readonly net = new MemoryNetwork()
  readonly nodes = new Map<string, Node>()
  private readonly crashed: Node[] = []

  constructor(
    private readonly kinds: ActorDef<any, any>[],
    private readonly options: ShardingOptions & { clock?: Clock; askTimeoutMs?: number } = {},
  ) {}

  static async start(names: string[], kinds: ActorDef<any, any>[], options: ShardingOptions & { clock?: Clock; askTimeoutMs?: number } = {}): Promise<TestCluster> {
    const c = new TestCluster(kinds, options)
    for (const name of names) await c.add(name, names)
    return c
  }

  /** Starts a node whose view is `members` (`overrides`: this node's own sharding options). */
  async add(name: string, members: string[], overrides: ShardingOptions = {}): Promise<Node> {
    const { clock, askTimeoutMs, ...sharding } = this.options
    const system = new ActorSystem({ name, transport: this.net.transport(), clock, askTimeoutMs: askTimeoutMs ?? 20_000 })
    await system.start()
    const view = new FakeView(name, members)
    // Real-clock tests must not hit handoff timeouts on a loaded machine unless they ask for them.
    const node = { name, system, view, sharding: Sharding.start(system, view, { handoffTimeoutMs: 60_000, ...sharding, ...overrides }) }
    for (const k of this.kinds) node.sharding.register(k)
    this.nodes.set(name, node)
    return node
  }

  node(name: string): Node {
    const n = this.nodes.get(name)
    if (!n) throw new Error(`no node ${name}`)
    return n
  }

  get names(): string[] {
    return [...this.nodes.keys()]
  }

  /** Cuts `name` off from every other node, as a crash looks to them. */
  crash(name: string): void {
    const node = this.node(name)
    for (const other of this.nodes.keys()) if (other !== name) this.net.partition(name, other)
    this.nodes.delete(name)
    this.crashed.push(node)
    for (const other of this.nodes.values()) other.system.nodeDown(name)
  }

  /** Sets the view of every live node (in the given order of nodes, default all at once). */
  setViews(members: string[], order: string[] = this.names): void {
    for (const name of order) this.node(name).view.set(members)
  }

  async terminate(): Promise<void> {
    await Promise.all([...this.nodes.values(), ...this.crashed].map((n) => n.system.terminate()))
  }
}

/** Lets queued microtasks and macrotasks run. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r))
}

/** Waits (real time, bounded) until `cond` holds. */
export async function until(cond: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const start = performance.now()
  while (!cond()) {
    if (performance.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 2))
  }
}
