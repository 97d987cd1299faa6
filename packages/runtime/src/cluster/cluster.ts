import { EventEmitter } from 'eventemitter3'
import type { ActorRef } from '../actor-ref.js'
import type { ActorSystem } from '../system.js'
import { ClusterCore } from './cluster-core.js'
import { resolveClusterOptions } from './cluster-options.js'
import type { ClusterOptions } from './cluster-options.js'
import type { Send } from './cluster-core.js'
import { daemonActor, heartbeatActor } from './cluster-daemon.js'
import { EMPTY_SNAPSHOT, emitDiff } from './cluster-events.js'
import type { ClusterEvents, Snapshot } from './cluster-events.js'
import { DetectorRegistry } from './detector-registry.js'
import { LoopLag } from './loop-lag.js'
import { clusterVersionOf } from './member-info.js'
import { toMember } from './member.js'
import type { Member, MemberStatus } from './member.js'
import { BadGossip } from './membership-wire.js'
import type { DaemonMessage } from './messages.js'
import { DAEMON_PATH, HEARTBEAT_PATH } from './messages.js'
import type { MembershipView } from './view.js'

export type { ClusterOptions } from './cluster-options.js'

export interface ClusterStats {
  heartbeatsSent: number
  acksSent: number
  gossipStatusSent: number
  gossipStateSent: number
  maxLoopLagMs: number
  stalls: number
  totalStallMs: number
}

/**
 * Cluster membership for one node: joins through seeds, gossips membership,
 * detects failures with heartbeats and phi accrual, downs partitioned
 * minorities, and publishes member events. Start one per ActorSystem (after
 * `system.start()`); its daemons live at /system/cluster and
 * /system/cluster-heartbeat.
 */
export class Cluster implements MembershipView {
  readonly events = new EventEmitter<ClusterEvents>()
  readonly self: string
  readonly incarnation: number
  private readonly core: ClusterCore
  private readonly registry: DetectorRegistry
  private readonly lag: LoopLag | null
  private snapshot: Snapshot = EMPTY_SNAPSHOT
  private clusterVersion: number
  private readonly peers = new Map<string, string>()
  private readonly refs = new Map<string, ActorRef>()
  private targets = new Map<string, number>()
  private readonly counters = { heartbeatsSent: 0, acksSent: 0, gossipStatusSent: 0, gossipStateSent: 0 }
  private daemon: ActorRef | null = null
  private heartbeat: ActorRef | null = null
  private readonly gossipIntervalMs: number
  private readonly addPeer: (node: string, address: string) => void
  private readonly finished: Promise<void>
  private finish!: () => void

  private constructor(
    readonly system: ActorSystem,
    options: ClusterOptions,
  ) {
    this.self = system.name
    const o = resolveClusterOptions(options, system.clock)
    this.incarnation = o.incarnation
    this.gossipIntervalMs = o.gossipIntervalMs
    const transport = options.transport
    this.addPeer = transport?.addPeer ? (node, address) => transport.addPeer?.(node, address) : () => {}
    this.lag = o.loopLag === null ? null : new LoopLag(system.clock, o.loopLag)
    this.registry = new DetectorRegistry(o.detector, this.lag)
    this.core = new ClusterCore({
      self: { node: this.self, address: options.address ?? this.self, incarnation: this.incarnation, info: o.info },
      ...o.core,
      random: system.random,
    })
    this.clusterVersion = o.info.wire.max
    this.finished = new Promise((resolve) => (this.finish = resolve))
    this.spawnDaemons(o.heartbeatIntervalMs)
  }

  /** Starts cluster membership on `system` (whose transport must be started). */
  static start(system: ActorSystem, options: ClusterOptions = {}): Cluster {
    const cluster = new Cluster(system, options)
    for (const seed of options.seeds ?? []) {
      const { node, address } = typeof seed === 'string' ? { node: seed, address: seed } : seed
      if (node !== cluster.self) cluster.learnPeer(node, address)
    }
    cluster.lag?.start()
    cluster.apply(cluster.core.start(system.clock.now()))
    return cluster
  }

  /** All members this node knows, sorted by name, with this node's view of their reachability. */
  members(): Member[] {
    return [...this.snapshot.members.values()]
  }

  /**
   * The cluster version: the highest wire version every member speaks, the
   * minimum over the members this node knows (any status but removed) of
   * the top of their wire range; before this node joined, its own. It only
   * changes with the member set (`versionChanged`): it drops when a member
   * that speaks less joins, which is what keeps a rollback possible, and
   * rises once the last such member is removed. Speak a new form of
   * anything every member must understand only once `supports(v)`.
   */
  get version(): number {
    return this.clusterVersion
  }

  /** Every member speaks wire version `v` (`v <= version`). */
  supports(v: number): boolean {
    return v <= this.clusterVersion
  }

  /** The app version of member `node` as this node knows it (undefined: unknown). */
  appVersionOf(node: string): string | undefined {
    return this.snapshot.members.get(node)?.appVersion
  }

  /** Members (any status) that have `role`, sorted by name. */
  membersWithRole(role: string): Member[] {
    return this.members().filter((m) => m.roles.includes(role))
  }

  /** Names of up members, sorted; empty once this node is down, removed or stopped. */
  upMembers(): string[] {
    return [...this.snapshot.up]
  }

  /** The incarnation of `node` in this node's membership table (undefined: unknown). */
  incarnationOf(node: string): number | undefined {
    return this.snapshot.members.get(node)?.incarnation
  }

  /** Whether `node` is leaving gracefully (status `leaving` or `exiting`) in this node's membership table. */
  isLeaving(node: string): boolean {
    const status = this.snapshot.members.get(node)?.status
    return status === 'leaving' || status === 'exiting'
  }

  /** Whether this node's failure detector reaches `node` now (false for a node it does not know). */
  isReachable(node: string): boolean {
    return this.snapshot.members.get(node)?.reachable ?? false
  }

  leader(): string | null {
    return this.snapshot.leader
  }

  /** This node's status ('removed' once it has left or was replaced; null before it joined). */
  get status(): MemberStatus | null {
    if (this.core.phase === 'terminal') return this.core.terminalReason === 'down' ? 'down' : 'removed'
    return this.snapshot.members.get(this.self)?.status ?? null
  }

  get isUp(): boolean {
    return this.status === 'up'
  }

  /** Down, removed or stopped: this cluster instance does nothing more. */
  get isTerminated(): boolean {
    return this.core.phase === 'terminal'
  }

  /** Resolves true once this node is up, or false if it ends (down, removed, stopped) first. */
  whenUp(): Promise<boolean> {
    if (this.isUp) return Promise.resolve(true)
    if (this.isTerminated) return Promise.resolve(false)
    return new Promise((resolve) => {
      const check = () => {
        if (!this.isUp && !this.isTerminated) return
        this.events.off('memberUp', check)
        resolve(this.isUp)
      }
      this.events.on('memberUp', check)
      void this.finished.then(check)
    })
  }

  /** Leaves gracefully (leaving → exiting → removed); resolves once this node is out of the cluster. */
  leave(): Promise<void> {
    this.apply(this.core.leave())
    return this.finished
  }

  /** Marks `node` down: the cluster removes it and it may only come back with a new incarnation. */
  down(node: string): void {
    this.apply(this.core.down(node))
  }

  /** Stops taking part without leaving: peers will find this node unreachable and down it. */
  async stop(): Promise<void> {
    this.core.stop()
    this.apply([])
    await this.finished
  }

  stats(): ClusterStats {
    return { ...this.counters, maxLoopLagMs: this.lag?.maxLagMs ?? 0, stalls: this.lag?.stalls ?? 0, totalStallMs: this.lag?.totalStallMs ?? 0 }
  }

  /** Current suspicion of a monitored node (0 when this node does not monitor it). */
  phi(node: string): number {
    return this.registry.phi(node, this.system.clock.now())
  }

  /** Nodes this node currently heartbeats. */
  monitoredNodes(): string[] {
    return [...this.targets.keys()].sort()
  }

  /** @internal for tests: the local node was stalled `ms` (as the loop-lag probe would report). */
  _discountStall(ms: number): void {
    this.registry.discount(ms, this.system.clock.now())
  }

  on(event: 'changed', fn: () => void): this
  on<K extends keyof ClusterEvents>(event: K, fn: (...args: ClusterEvents[K]) => void): this
  on(event: keyof ClusterEvents, fn: (...args: any[]) => void): this {
    this.events.on(event, fn)
    return this
  }

  off(event: 'changed', fn: () => void): this
  off<K extends keyof ClusterEvents>(event: K, fn: (...args: ClusterEvents[K]) => void): this
  off(event: keyof ClusterEvents, fn: (...args: any[]) => void): this {
    this.events.off(event, fn)
    return this
  }

  // ---- driving the core ------------------------------------------------

  private spawnDaemons(heartbeatIntervalMs: number): void {
    this.daemon = this.system.spawnSystemActor(
      daemonActor({
        gossipIntervalMs: this.gossipIntervalMs,
        receive: (msg) => this.receive(msg),
        tick: () => this.apply(this.core.tick(this.system.clock.now(), this.registry)),
        stopped: () => this.daemonStopped(),
      }),
      { name: DAEMON_PATH.split('/')[2] },
    )
    this.heartbeat = this.system.spawnSystemActor(
      heartbeatActor({
        self: this.self,
        incarnation: this.incarnation,
        heartbeatIntervalMs,
        counters: this.counters,
        targets: () => this.targets,
        send: (node, type, payload) => this.tellQuietly(() => this.system.remoteRef(node, HEARTBEAT_PATH), type, payload),
        answered: (node) => this.registry.heartbeat(node, this.system.clock.now()),
      }),
      { name: HEARTBEAT_PATH.split('/')[2] },
    )
  }

  private receive(msg: DaemonMessage): void {
    let sends: Send[]
    try {
      sends = this.core.receive(msg, this.system.clock.now())
    } catch (err) {
      if (!(err instanceof BadGossip)) throw err
      const from = (msg.payload as { from?: unknown })?.from
      this.system.events.emit('inboundRejected', { from: typeof from === 'string' ? from : 'unknown', reason: `cluster: ${err.message}` })
      return
    }
    this.apply(sends)
  }

  /**
   * After every core step: teach the transport new addresses, retarget
   * heartbeats, publish (events, nodeDown), then send. Sending last matters:
   * nodeDown drops what is queued for that node, and a removed or replaced
   * node must still get its final gossip or welcome.
   */
  private apply(sends: Send[]): void {
    for (const m of this.core.state.members()) if (m.node !== this.self) this.learnPeer(m.node, m.address)
    this.retarget()
    const errors = this.publish()
    for (const { to, msg } of sends) {
      if (msg.type === 'status') this.counters.gossipStatusSent++
      else if (msg.type !== 'join') this.counters.gossipStateSent++
      this.tellQuietly(() => this.daemonRef(to), msg.type, msg.payload)
    }
    if (this.core.phase === 'terminal') this.shutDown()
    // A throwing listener must not cost the other events; the daemon resumes after it.
    if (errors.length > 0) throw errors[0]
  }

  private learnPeer(node: string, address: string): void {
    if (this.peers.get(node) === address) return
    this.peers.set(node, address)
    this.addPeer(node, address)
  }

  /** Detectors follow the heartbeat targets: new targets are judged from now, old ones forgotten. */
  private retarget(): void {
    const now = this.system.clock.now()
    const next = new Map(this.core.heartbeatTargets().map((m) => [m.node, m.incarnation]))
    for (const [node, incarnation] of this.targets) if (next.get(node) !== incarnation) this.registry.remove(node)
    for (const [node, incarnation] of next) if (this.targets.get(node) !== incarnation) this.registry.expect(node, now)
    this.targets = next
  }

  /** Publishes the new snapshot and emits the events since the last one; returns listener errors. */
  private publish(): unknown[] {
    const state = this.core.state
    const unreachable = state.unreachable(this.self)
    const terminal = this.core.phase === 'terminal'
    const members = new Map<string, Member>()
    for (const m of state.members()) members.set(m.node, toMember(m, !unreachable.has(m.node)))
    const up = terminal ? [] : state.members().filter((m) => m.status === 'up').map((m) => m.node)
    const next: Snapshot = { members, leader: this.core.phase === 'member' ? state.leader(this.self) : null, up }
    const prev = this.snapshot
    this.snapshot = next
    const errors: unknown[] = []
    const emit = <K extends keyof ClusterEvents>(event: K, ...args: ClusterEvents[K]) => {
      try {
        ;(this.events.emit as (e: K, ...a: ClusterEvents[K]) => boolean)(event, ...args)
      } catch (err) {
        errors.push(err)
      }
    }
    emitDiff(
      this.self,
      prev,
      next,
      emit,
      (node) => this.system.nodeDown(node),
      (node) => this.system.nodeUp(node),
    )
    const version = terminal ? this.clusterVersion : clusterVersionOf(members.values(), this.clusterVersion)
    if (version !== this.clusterVersion) {
      const previous = this.clusterVersion
      this.clusterVersion = version
      emit('versionChanged', version, previous)
    }
    // Forget cached refs of members that are gone, so churn does not grow these maps.
    for (const node of prev.members.keys()) if (!next.members.has(node)) this.refs.delete(node)
    if (terminal && !this.ended) {
      this.ended = true
      if (this.core.terminalReason === 'down') emit('selfDown')
      else if (this.core.terminalReason === 'removed') emit('selfRemoved')
    }
    return errors
  }
  private ended = false

  /** Terminal: stop the probe and both actors (they stop answering heartbeats, so peers notice). */
  private shutDown(): void {
    this.lag?.stop()
    this.targets = new Map()
    const refs = [this.daemon, this.heartbeat]
    this.daemon = null
    this.heartbeat = null
    for (const ref of refs) if (ref && this.system.lookup(ref.path)) void this.system.stop(ref).catch(() => {})
    this.finish()
  }

  private daemonStopped(): void {
    // The system is terminating (or the daemon was stopped): nothing will drive the core any more.
    this.daemon = null
    if (this.core.phase !== 'terminal') {
      this.core.stop()
      this.publish()
    }
    this.shutDown()
  }

  private daemonRef(node: string): ActorRef {
    let ref = this.refs.get(node)
    if (ref === undefined) {
      ref = this.system.remoteRef(node, DAEMON_PATH)
      this.refs.set(node, ref)
    }
    return ref
  }

  private tellQuietly(ref: () => ActorRef, type: string, payload: unknown): void {
    try {
      ref().tell(type, payload)
    } catch {
      // No transport, too large, backpressure: gossip and heartbeats are repeated, so a lost one is harmless.
    }
  }
}

