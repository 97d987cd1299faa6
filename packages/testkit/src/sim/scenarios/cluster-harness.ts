// A simulated cluster: every node of a SimWorld boots an ActorSystem and a
// Cluster on the world's clock, random source and network, plus whatever the
// scenario adds on top (sharding, pub/sub). A supervisor plays the process
// manager: a node whose cluster ended (downed, or replaced by a newer
// incarnation) is restarted, as a real deployment restarts a process that
// exited. Everything observed goes into one ordered log for the checkers.
import { ActorSystem, Cluster } from '@troupe/runtime'
import type { ClusterOptions } from '@troupe/runtime'
import type { NodeApp, NodeEnv } from '../sim-node.js'
import { SimWorld } from '../sim-world.js'
import type { SimWorldOptions } from '../sim-world.js'

/** Cluster timings for simulations: fast enough that many faults fit in a short virtual run. */
export const SIM_CLUSTER_TIMINGS: ClusterOptions = {
  heartbeatIntervalMs: 200,
  gossipIntervalMs: 200,
  acceptableHeartbeatPauseMs: 600,
  stableAfterMs: 2000,
  seedTimeoutMs: 600,
}

/** One observation, in the order it happened across all nodes. */
export type ClusterObservation =
  | { kind: 'boot'; atMs: number; node: string; incarnation: number }
  | { kind: 'crash'; atMs: number; node: string }
  | { kind: 'view'; atMs: number; node: string; members: string[] }
  | { kind: 'start'; atMs: number; node: string; entity: string }
  | { kind: 'stop'; atMs: number; node: string; entity: string }
  /** `node` learned that `member`#`incarnation` was downed. */
  | { kind: 'downed'; atMs: number; node: string; member: string; incarnation: number }

/** What a booted node holds; `extra` is what the scenario's `extend` returned. */
export interface ClusterNodeApp<X> {
  readonly system: ActorSystem
  readonly cluster: Cluster
  readonly incarnation: number
  readonly extra: X
}

export interface ClusterHarnessOptions<X> {
  names: string[]
  /** Nodes booted at the start (default: all of `names`). */
  initial?: string[]
  world?: SimWorldOptions
  cluster?: ClusterOptions
  askTimeoutMs?: number
  /** Virtual ms between a node's cluster ending and its process restarting (default 300). */
  restartDelayMs?: number
  /** Builds the layers above the cluster on a freshly booted node. */
  extend: (env: NodeEnv, system: ActorSystem, cluster: Cluster, log: ObservationLog) => X | Promise<X>
}

/** The observations, plus a few counters; shared by all incarnations of all nodes. */
export class ObservationLog {
  readonly entries: ClusterObservation[] = []
  readonly notes: string[] = []
  readonly counts = { boots: 0, supervisorRestarts: 0, bootstraps: 0, selfDowns: 0 }
  /** Downings each node incarnation saw, as [node, incarnation]. */
  private readonly downsSeen = new Map<string, Array<[string, number]>>()

  constructor(private readonly now: () => number) {}

  add(o: DistributiveOmit<ClusterObservation, 'atMs'>): void {
    this.entries.push({ ...o, atMs: this.now() } as ClusterObservation)
  }

  downSeen(observer: string, node: string, incarnation: number): void {
    const list = this.downsSeen.get(observer) ?? []
    list.push([node, incarnation])
    this.downsSeen.set(observer, list)
  }

  /**
   * The incarnations `observer` (name#incarnation) saw downed. Only the
   * observer's own list is binding on it: a decision made by a node cut off
   * from everyone (a minority leader on a one-way link) may never spread and
   * so never take effect elsewhere.
   */
  downedSeenBy(observer: string): ReadonlyArray<[string, number]> {
    return this.downsSeen.get(observer) ?? []
  }

  note(what: string): void {
    if (this.notes.length < 50) this.notes.push(`${this.now()}: ${what}`)
  }
}

type DistributiveOmit<T, K extends keyof any> = T extends unknown ? Omit<T, K> : never

/** A world whose crashes (by the nemesis or by the test) are observed: a crash ends every activation on the node. */
class ObservedWorld extends SimWorld {
  onCrash: (name: string) => void = () => {}

  override crash(name: string): void {
    const node = this.node<NodeApp>(name)
    // Nothing of the old incarnation may run after the crash, not even work already queued as microtasks.
    if (node.up) node.app.system?.halt()
    super.crash(name)
    this.onCrash(name)
  }
}

/**
 * Five (or any number of) simulated nodes running the cluster. Seeds are all
 * node names in order; only a node allowed to bootstrap lists itself first
 * (the first node at its first boot, or when the operator re-forms a cluster
 * that was lost entirely), so a restart never forms a second cluster.
 */
export class ClusterHarness<X> {
  readonly world: SimWorld
  readonly log: ObservationLog
  private readonly bootstrap = new Set<string>()
  /** Nodes that left on purpose: the supervisor does not restart them. */
  readonly retired = new Set<string>()

  constructor(
    seed: number,
    private readonly options: ClusterHarnessOptions<X>,
  ) {
    const world = new ObservedWorld({ seed, ...options.world })
    this.world = world
    this.log = new ObservationLog(() => world.now)
    world.onCrash = (name) => this.log.add({ kind: 'crash', node: name })
    const initial = options.initial ?? options.names
    this.bootstrap.add(initial[0]!)
    for (const name of initial) this.addNode(name)
  }

  get names(): string[] {
    return this.options.names
  }

  /** Adds a machine for `name` and boots it now. */
  addNode(name: string): void {
    this.world.addNode<ClusterNodeApp<X>>(name, (env) => this.boot(env))
  }

  app(name: string): ClusterNodeApp<X> | null {
    const node = this.world.node<ClusterNodeApp<X>>(name)
    return node.up ? node.app : null
  }

  /** Names of nodes whose machine exists in the world. */
  get machines(): string[] {
    return this.world.nodeNames
  }

  /** The operator forms a new cluster from `name`: it restarts listing itself as first seed. */
  rebootstrap(name: string): void {
    this.bootstrap.add(name)
    this.log.counts.bootstraps++
    this.log.note(`operator re-forms the cluster from ${name}`)
    this.world.note(`operator bootstrap ${name}`)
    const node = this.world.node(name)
    if (node.state !== 'down') this.world.crash(name)
    this.world.restart(name)
  }

  /**
   * Every node in `names` runs (not stalled) a live cluster, each sees
   * exactly `names` up and reachable, and they all name the same leader.
   */
  converged(names: readonly string[]): boolean {
    const want = [...names].sort().join(',')
    let leader: string | null | undefined
    for (const name of names) {
      // A stalled process still looks fine to the others until the detector notices: wait for it to run again.
      if (this.world.node(name).paused) return false
      const app = this.app(name)
      if (app === null || !app.cluster.isUp) return false
      if (app.cluster.upMembers().join(',') !== want) return false
      const members = app.cluster.members()
      if (members.length !== names.length || members.some((m) => !m.reachable || m.status !== 'up')) return false
      const l = app.cluster.leader()
      if (l === null || (leader !== undefined && l !== leader)) return false
      leader = l
    }
    return true
  }

  /** True when some node's cluster is up (a cluster exists to join). */
  anyUp(): boolean {
    return this.machines.some((n) => this.app(n)?.cluster.isUp === true)
  }

  /** One line per node: incarnation, status, leader and member list. */
  describe(): string {
    return this.machines
      .map((name) => {
        const node = this.world.node<ClusterNodeApp<X>>(name)
        if (!node.up) return `${name}: ${node.state}`
        const c = node.app.cluster
        const members = c.members().map((m) => `${m.node}#${m.incarnation}:${m.status}${m.reachable ? '' : '!'}`)
        return `${name}#${node.app.incarnation}: ${c.status ?? 'not joined'}${c.isTerminated ? ' (terminated)' : ''} leader=${c.leader()} [${members.join(' ')}]`
      })
      .join('\n')
  }

  private seedsFor(name: string): string[] {
    const names = this.options.names
    if (this.bootstrap.delete(name)) return [name, ...names.filter((n) => n !== name)]
    return [...names.filter((n) => n !== name), name]
  }

  private async boot(env: NodeEnv): Promise<ClusterNodeApp<X>> {
    const { name, incarnation } = env
    const log = this.log
    log.counts.boots++
    log.add({ kind: 'boot', node: name, incarnation })
    const system = new ActorSystem({ ...env.system, askTimeoutMs: this.options.askTimeoutMs ?? 1000 })
    await system.start()
    const cluster = Cluster.start(system, {
      ...SIM_CLUSTER_TIMINGS,
      ...this.options.cluster,
      seeds: this.seedsFor(name),
      incarnation,
      transport: env.transport,
    })
    cluster.on('changed', () => log.add({ kind: 'view', node: name, members: cluster.upMembers() }))
    cluster.on('memberDown', (m) => {
      log.downSeen(`${name}#${incarnation}`, m.node, m.incarnation)
      log.add({ kind: 'downed', node: name, member: m.node, incarnation: m.incarnation })
    })
    cluster.on('selfDown', () => {
      log.counts.selfDowns++
      this.superviseRestart(name, incarnation, 'downed')
    })
    cluster.on('selfRemoved', () => this.superviseRestart(name, incarnation, 'removed'))
    const extra = await this.options.extend(env, system, cluster, log)
    return { system, cluster, incarnation, extra }
  }

  /** The process exits when its cluster ends; the process manager starts it again a little later. */
  private superviseRestart(name: string, incarnation: number, why: string): void {
    if (this.retired.has(name)) return
    this.world.after(this.options.restartDelayMs ?? 300, () => {
      const node = this.world.node(name)
      if (this.retired.has(name) || node.incarnation !== incarnation || node.state === 'down') return
      this.log.counts.supervisorRestarts++
      this.world.note(`supervisor restarts ${name} (${why})`)
      this.world.crash(name)
      this.world.restart(name)
    }, 'supervisor')
  }
}
