import { InvariantError } from '@troupe/runtime'
import type { Transport } from '@troupe/runtime'
import { Prng } from '../prng.js'
import { EventQueue } from './event-queue.js'
import { envSeed } from './seeds.js'
import { SimError } from './sim-error.js'
import { SimNetwork } from './sim-network.js'
import type { LinkConfig } from './link-config.js'
import { SimNode } from './sim-node.js'
import type { BootFn, NodeApp, NodeOptions, WorldEvent, WorldHost } from './sim-node.js'
import { Trace } from './trace.js'

export interface SimWorldOptions {
  /** Seed of every random choice; default: SIM_SEED from the environment, else 1. */
  seed?: number
  /** Global virtual time at the start, in ms (default 0). */
  startMs?: number
  /** Behaviour of every network link (default: reliable, 1–5 ms). */
  network?: Partial<LinkConfig>
  /** Recent trace lines kept for failure reports (default 200). */
  traceLines?: number
  /** Pending events above which the run fails with EVENT_QUEUE_FULL (default 1,000,000). */
  maxPendingEvents?: number
  /** Events or turns at one instant above which the run fails with SIM_LIVELOCK (default 1,000,000). */
  maxStepsPerInstant?: number
}

interface Turn {
  node: SimNode<any>
  epoch: number
  fn: () => void
}

/** Lets every pending microtask and promise chain finish. */
const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * A whole cluster in one process on virtual time. One seeded PRNG, one clock
 * and one event queue (ordered by time, then insertion) hold every node's
 * timers and every network delivery. Before each event the world lets all
 * ready work finish (microtasks and the dispatchers' yielded turns); then it
 * pops the next event and moves time to it. Time moves only here, so the
 * same seed gives the same run, and `traceHash` proves it.
 */
export class SimWorld {
  readonly seed: number
  readonly prng: Prng
  readonly network: SimNetwork
  private nowMs: number
  private readonly queue: EventQueue
  private readonly trace: Trace
  private readonly nodes = new Map<string, SimNode<any>>()
  private ready: Turn[] = []
  private running = false
  private failure: unknown = undefined
  private stepsThisInstant = 0
  private readonly maxStepsPerInstant: number
  private readonly host: WorldHost

  constructor(options: SimWorldOptions = {}) {
    this.seed = options.seed ?? envSeed() ?? 1
    this.prng = new Prng(this.seed)
    this.nowMs = options.startMs ?? 0
    this.queue = new EventQueue(options.maxPendingEvents ?? 1_000_000)
    this.trace = new Trace({ keepLines: options.traceLines ?? 200 })
    this.maxStepsPerInstant = options.maxStepsPerInstant ?? 1_000_000
    this.host = this.makeHost()
    this.network = new SimNetwork(this.host, this.prng.fork('network'))
    if (options.network) this.network.configure(options.network)
  }

  /** Global virtual time in ms. */
  get now(): number {
    return this.nowMs
  }

  /** Hash of every event so far (16 hex digits): equal seeds give equal hashes. */
  get traceHash(): string {
    return this.trace.hash
  }

  /** Events recorded in the trace so far. */
  get traceEvents(): number {
    return this.trace.events
  }

  /** The most recent trace lines, oldest first (for failure reports). */
  recentTrace(): string[] {
    return this.trace.recent()
  }

  /** An independent seeded stream for a test's own choices. */
  random(label: string): Prng {
    return this.prng.fork(`user:${label}`)
  }

  /** Adds a machine and boots it at the current time (it is up after the next `run*`). */
  addNode<A extends object>(name: string, boot: BootFn<A>, options?: NodeOptions): SimNode<A> {
    if (this.nodes.has(name)) throw new SimError('BAD_STATE', `node ${name} already exists`)
    if (name === '-' || name.includes('|')) throw new RangeError(`bad node name '${name}'`)
    const node = new SimNode(this.host, name, boot, options)
    this.nodes.set(name, node)
    node.scheduleBoot()
    return node
  }

  node<A extends object = NodeApp>(name: string): SimNode<A> {
    const node = this.nodes.get(name)
    if (!node) throw new SimError('BAD_STATE', `no node named ${name}`)
    return node as SimNode<A>
  }

  get nodeNames(): string[] {
    return [...this.nodes.keys()]
  }

  /** All in-memory state of the node is lost: timers, in-flight deliveries to it, its endpoint, unsynced disk writes. */
  crash(name: string): void {
    const node = this.node(name)
    if (node.state === 'down') throw new SimError('BAD_STATE', `node ${name} is already down`)
    node.crash()
    this.record(name, 'crash')
  }

  /** Boots a down node again (with the disk it had) at the current time. */
  restart(name: string): void {
    this.node(name).scheduleBoot()
    this.record(name, 'restart')
  }

  /** Stalls the node for `ms` (a GC or event-loop pause): its timers, deliveries and turns wait. */
  pause(name: string, ms: number): void {
    const node = this.node(name)
    if (!(ms >= 0)) throw new RangeError(`pause needs ms >= 0, got ${ms}`)
    if (node.state === 'down') return this.record(name, `pause ignored (down)`)
    node.pause(this.nowMs + ms)
    this.record(name, `pause ${ms}ms`)
  }

  /** Sets the node's clock offset from global time and/or its rate; pending timers follow. */
  setClock(name: string, change: { skewMs?: number; rate?: number }): void {
    this.node(name).adjustClock(change)
    this.record(name, `clock${change.skewMs !== undefined ? ` skew=${change.skewMs}` : ''}${change.rate !== undefined ? ` rate=${change.rate}` : ''}`)
  }

  /** Runs `fn` at global time `atMs` (a scripted fault or client action). */
  at(atMs: number, fn: () => void, label = 'script'): void {
    this.host.schedule(Math.max(atMs, this.nowMs), null, label, fn)
  }

  /** Runs `fn` after `ms` of global time. */
  after(ms: number, fn: () => void, label = 'script'): void {
    this.at(this.nowMs + ms, fn, label)
  }

  /** Adds a line to the trace (and its hash): nemesis actions, test milestones. */
  note(what: string): void {
    this.record('-', `note ${what}`)
  }

  /** Runs every event due up to `untilMs`, then sets the time to `untilMs`. */
  async run(untilMs: number): Promise<void> {
    await this.loop(untilMs, null)
  }

  /** Runs for `ms` of virtual time. */
  async runFor(ms: number): Promise<void> {
    await this.loop(this.nowMs + ms, null)
  }

  /**
   * Runs until `predicate` holds (checked once all ready work is done, after
   * each event) or `maxMs` of virtual time passed. Returns whether it held.
   */
  async runUntil(predicate: () => boolean, maxMs: number): Promise<boolean> {
    return this.loop(this.nowMs + maxMs, predicate)
  }

  /** Runs until `promise` settles and returns its outcome; SIM_TIMEOUT after `maxMs` of virtual time. */
  async waitFor<T>(promise: Promise<T>, maxMs = 60_000): Promise<T> {
    let settled = false
    const done = () => {
      settled = true
    }
    promise.then(done, done)
    if (!(await this.runUntil(() => settled, maxMs))) {
      throw new SimError('SIM_TIMEOUT', `promise still pending after ${maxMs} virtual ms (now ${this.nowMs})`)
    }
    return promise
  }

  /** Runs until every node is up (booted); SIM_TIMEOUT after `maxMs`. */
  async waitUntilUp(maxMs = 60_000): Promise<void> {
    const ok = await this.runUntil(() => [...this.nodes.values()].every((n) => n.up), maxMs)
    if (!ok) throw new SimError('SIM_TIMEOUT', `nodes not up after ${maxMs} virtual ms: ${this.nodeNames.filter((n) => !this.node(n).up).join(', ')}`)
  }

  /** Drops all pending work so that nothing of this world runs again. */
  dispose(): void {
    for (const node of this.nodes.values()) if (node.state !== 'down') node.crash()
    this.queue.clear()
    this.ready = []
  }

  private async loop(untilMs: number, predicate: (() => boolean) | null): Promise<boolean> {
    if (this.running) throw new InvariantError('SimWorld.run* is not reentrant: await the previous call first')
    if (!(untilMs >= this.nowMs)) throw new RangeError(`cannot run to ${untilMs}: time is already ${this.nowMs}`)
    this.running = true
    try {
      await this.settle()
      if (predicate?.()) return true
      for (;;) {
        const event = this.queue.peek() as WorldEvent | undefined
        if (event === undefined || event.at > untilMs) break
        this.queue.pop()
        this.advanceTo(event.at)
        this.dispatch(event)
        await this.settle()
        if (predicate?.()) return true
      }
      this.advanceTo(untilMs)
      return predicate === null
    } finally {
      this.running = false
    }
  }

  /** Lets all ready work finish: promise chains, then yielded turns, until nothing is ready. */
  private async settle(): Promise<void> {
    for (;;) {
      await macrotask()
      this.throwFailure()
      if (this.ready.length === 0) return
      const batch = this.ready
      this.ready = []
      for (const turn of batch) this.runTurn(turn)
    }
  }

  private runTurn(turn: Turn): void {
    const { node } = turn
    if (node.epoch !== turn.epoch) return
    this.step()
    if (node.pausedUntil > this.nowMs) {
      // A stalled process does not run its queued work; it resumes after the pause.
      this.host.schedule(node.pausedUntil, node, 'turn', turn.fn, undefined, this.nowMs)
      return
    }
    turn.fn()
  }

  private dispatch(event: WorldEvent): void {
    const node = event.node
    if (node !== null) {
      if (node.epoch !== event.epoch) return event.onDrop?.()
      if (node.pausedUntil > this.nowMs) {
        event.at = node.pausedUntil
        this.queue.push(event)
        return
      }
    }
    this.step()
    this.record(node?.name ?? '-', event.label)
    event.run()
  }

  private step(): void {
    if (++this.stepsThisInstant > this.maxStepsPerInstant) {
      throw new SimError('SIM_LIVELOCK', `more than ${this.maxStepsPerInstant} events at virtual time ${this.nowMs} without time moving`)
    }
  }

  private advanceTo(t: number): void {
    if (t > this.nowMs) {
      this.nowMs = t
      this.stepsThisInstant = 0
    }
  }

  private record(node: string, what: string): void {
    this.trace.record(`${this.nowMs}|${node}|${what}`)
  }

  private throwFailure(): void {
    if (this.failure === undefined) return
    const failure = this.failure
    this.failure = undefined
    throw failure
  }

  private makeHost(): WorldHost {
    const world = this
    return {
      get now() {
        return world.nowMs
      },
      fork: (label) => this.prng.fork(label),
      schedule: (at, node, label, run, onDrop, rank) => {
        const when = Math.max(at, this.nowMs)
        return this.queue.push({ at: when, rank: rank ?? when, node, epoch: node?.epoch ?? 0, label, run, onDrop })
      },
      cancel: (event) => this.queue.cancel(event),
      queueTurn: (node, fn) => {
        if (this.ready.length >= this.maxStepsPerInstant) throw new SimError('SIM_LIVELOCK', `more than ${this.maxStepsPerInstant} yielded turns waiting`)
        this.ready.push({ node, epoch: node.epoch, fn })
      },
      record: (node, what) => this.record(node, what),
      transportFor: (node): Transport => this.network.transportFor(node),
      detach: (name) => this.network.detach(name, null, false),
      fail: (error) => {
        this.failure ??= error
      },
      node: (name) => this.nodes.get(name),
    }
  }
}
