import type { ActorSystem, Clock, Disk, SystemOptions, TimerHandle, Transport } from '@troupe/runtime'
import type { Prng } from '../prng.js'
import { SimDisk } from '../sim-disk.js'
import { ClockModel } from './clock-model.js'
import type { SimEvent } from './event-queue.js'
import { fencedDisk } from './fenced-disk.js'
import { SimError } from './sim-error.js'

/** What a node's boot function gets: everything that must come from the simulation. */
export interface NodeEnv {
  readonly name: string
  /** 1 for the first boot, then +1 per restart. */
  readonly incarnation: number
  /** This machine's clock (skewed and drifting as configured); timers run on virtual time. */
  readonly clock: Clock
  /** Uniform in [0, 1), seeded; a fresh stream per incarnation. */
  readonly random: () => number
  /** The same stream as `random`, for code that wants ints, picks, shuffles. */
  readonly prng: Prng
  /** This incarnation's endpoint on the simulated network. */
  readonly transport: Transport
  /** The node's disk; it survives crashes (minus what was not synced). */
  readonly disk: Disk
  /** Ready-made ActorSystem options: name, clock, random, yieldTurn, transport. */
  readonly system: SystemOptions
}

/**
 * What a boot function returns: anything the test wants to reach later
 * (`node.app`); `node.system` reads its `system` field.
 */
export interface NodeApp {
  readonly system?: ActorSystem
}

export type BootFn<A extends object = NodeApp> = (env: NodeEnv) => A | Promise<A>

export interface NodeOptions {
  /** Offset of this machine's clock from global virtual time (default 0). */
  clockSkewMs?: number
  /** Rate of this machine's clock (default 1; 1.0001 is 100 ppm fast). */
  clockRate?: number
  disk?: {
    /** On crash a random prefix of each file's unsynced appends survives. */
    tornWrites?: boolean
    /** Each sync fails with IO_ERROR with this probability. */
    failSyncProbability?: number
    /** Latency of every disk operation, uniform in [min, max] virtual ms (default: none). */
    latencyMs?: { min: number; max: number }
  }
}

export type NodeState = 'booting' | 'up' | 'down'

/** A world event bound to a node incarnation. */
export interface WorldEvent extends SimEvent {
  node: SimNode<any> | null
  epoch: number
  label: string
  onDrop?: () => void
}

/** @internal what nodes and the network need from their world. */
export interface WorldHost {
  readonly now: number
  fork(label: string): Prng
  /** `rank` orders events at one instant (default `at`; lower runs first). */
  schedule(at: number, node: SimNode<any> | null, label: string, run: () => void, onDrop?: () => void, rank?: number): WorldEvent
  node(name: string): SimNode<any> | undefined
  cancel(event: WorldEvent): void
  queueTurn(node: SimNode<any>, fn: () => void): void
  record(node: string, what: string): void
  transportFor(node: SimNode<any>): Transport
  detach(name: string): void
  fail(error: unknown): void
}

interface TimerEvent extends WorldEvent {
  localDue: number
  fn: () => void
}

/**
 * One simulated machine: a name, a clock, a disk that outlives crashes, and
 * the current incarnation of the software booted on it. Every timer,
 * delivery and turn belongs to an incarnation (its epoch); when the node
 * crashes the epoch moves on and all of them are dropped.
 */
export class SimNode<A extends object = NodeApp> {
  readonly disk: SimDisk
  /** Bumped by every crash and boot; work from an older epoch is dropped. */
  epoch = 0
  incarnation = 0
  state: NodeState = 'down'
  /** Global time until which this node is stalled. */
  pausedUntil = -Infinity
  private current: A | null = null
  private readonly timers = new Set<TimerEvent>()
  /** @internal */
  readonly clockModel: ClockModel

  constructor(
    private readonly host: WorldHost,
    readonly name: string,
    private readonly boot: BootFn<A>,
    options: NodeOptions = {},
  ) {
    this.clockModel = new ClockModel(host.now, options.clockSkewMs ?? 0, options.clockRate ?? 1)
    const diskRng = host.fork(`disk:${name}`)
    const latency = options.disk?.latencyMs
    this.disk = new SimDisk({
      random: () => diskRng.next(),
      tornWrites: options.disk?.tornWrites ?? false,
      failSyncProbability: options.disk?.failSyncProbability ?? 0,
      ...(latency ? { delay: () => this.diskDelay(latency, diskRng) } : {}),
    })
  }

  get up(): boolean {
    return this.state === 'up'
  }

  /** The running incarnation's app; throws while the node is down or booting. */
  get app(): A {
    if (this.current === null) throw new SimError('BAD_STATE', `node ${this.name} is ${this.state}`)
    return this.current
  }

  /** The running incarnation's ActorSystem (throws if there is none). */
  get system(): ActorSystem {
    const system = (this.app as NodeApp).system
    if (!system) throw new SimError('BAD_STATE', `node ${this.name}'s boot function returned no system`)
    return system
  }

  /** True while stalled by `pause`. */
  get paused(): boolean {
    return this.pausedUntil > this.host.now
  }

  /** What this machine's clock reads now. */
  localNow(): number {
    return this.clockModel.read(this.host.now)
  }

  /** @internal schedules a boot of a new incarnation now. */
  scheduleBoot(): void {
    if (this.state !== 'down') throw new SimError('BAD_STATE', `node ${this.name} is ${this.state}; only a down node can boot`)
    this.epoch++
    this.incarnation++
    this.state = 'booting'
    this.host.schedule(this.host.now, this, `boot#${this.incarnation}`, () => this.runBoot())
  }

  /** @internal all in-memory state is lost; the disk forgets what was not synced. */
  crash(): void {
    this.epoch++
    this.state = 'down'
    this.current = null
    this.pausedUntil = -Infinity
    for (const t of this.timers) this.host.cancel(t)
    this.timers.clear()
    this.host.detach(this.name)
    this.disk.crash()
  }

  /** @internal */
  pause(untilGlobal: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, untilGlobal)
  }

  /** @internal changes the clock; pending timers move to their new global times. */
  adjustClock(change: { skewMs?: number; rate?: number }): void {
    this.clockModel.adjust(this.host.now, change)
    const pending = [...this.timers].sort((x, y) => x.localDue - y.localDue || x.seq - y.seq)
    this.timers.clear()
    for (const t of pending) {
      this.host.cancel(t)
      this.addTimer(t.localDue, t.fn)
    }
  }

  private runBoot(): void {
    const epoch = this.epoch
    const alive = () => this.epoch === epoch
    const prng = this.host.fork(`node:${this.name}:${this.incarnation}`)
    const random = () => prng.next()
    const clock = this.makeClock(alive)
    const transport = this.host.transportFor(this)
    const yieldTurn = (fn: () => void) => {
      if (alive()) this.host.queueTurn(this, fn)
    }
    const env: NodeEnv = {
      name: this.name,
      incarnation: this.incarnation,
      clock,
      random,
      prng,
      transport,
      disk: fencedDisk(this.disk, alive),
      system: { name: this.name, clock, random, yieldTurn, transport },
    }
    let booted: Promise<A>
    try {
      booted = Promise.resolve(this.boot(env))
    } catch (err) {
      booted = Promise.reject(err)
    }
    booted.then(
      (app) => {
        if (!alive()) return
        this.current = app
        this.state = 'up'
        this.host.record(this.name, `up#${this.incarnation}`)
      },
      (err) => {
        if (!alive()) return
        this.state = 'down'
        this.host.fail(new SimError('BOOT_FAILED', `node ${this.name} failed to boot: ${String(err)}`, { cause: err }))
      },
    )
  }

  private makeClock(alive: () => boolean): Clock {
    return {
      now: () => this.clockModel.read(this.host.now),
      setTimer: (delayMs, fn) => {
        if (!alive()) return {} as TimerHandle
        const due = this.clockModel.read(this.host.now) + Math.max(0, Number.isFinite(delayMs) ? delayMs : 0)
        return this.addTimer(due, fn) as unknown as TimerHandle
      },
      clearTimer: (handle) => {
        const t = handle as unknown as TimerEvent
        if (!this.timers.delete(t)) return
        this.host.cancel(t)
      },
    }
  }

  private addTimer(localDue: number, fn: () => void): TimerEvent {
    const at = this.clockModel.globalFor(localDue, this.host.now)
    const t = this.host.schedule(at, this, 'timer', () => {
      this.timers.delete(t)
      this.clockModel.reached(localDue)
      fn()
    }) as TimerEvent
    t.localDue = localDue
    t.fn = fn
    this.timers.add(t)
    return t
  }

  private diskDelay(latency: { min: number; max: number }, rng: Prng): Promise<void> {
    const ms = latency.min + rng.next() * (latency.max - latency.min)
    return new Promise((resolve) => {
      this.host.schedule(this.host.now + ms, this, 'disk', resolve)
    })
  }
}
