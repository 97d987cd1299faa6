// A cluster of actor systems in one process for RaftGroup tests: a
// MemoryNetwork, one ManualClock for every node, seeded randomness. Time
// moves only when a test runs the cluster, so tests take milliseconds of
// wall time and no assertion depends on how fast the machine is.
import { ActorSystem, ManualClock, MemoryNetwork } from '@troupe/runtime'
import type { Transport } from '@troupe/runtime'
import { Prng } from '@troupe/testkit'
import { group, raftHost, type GroupOptions, type RaftGroup, type RaftHostOptions, type StateMachine } from '../src/index.js'

export type KvCommand = { op: 'put'; key: string; value: unknown } | { op: 'add'; key: string; n: number } | { op: 'cas'; key: string; expected: unknown; value: unknown } | { op: 'fail' }
export type KvQuery = { op: 'get'; key: string } | { op: 'all' }

/** A key-value state machine that counts what it applied (across restores, through `applied`). */
export class Kv implements StateMachine<KvCommand, unknown, KvQuery, unknown> {
  data = new Map<string, unknown>()
  constructor(readonly applied: { count: number; log?: Array<{ index: number; command: KvCommand }> } = { count: 0 }) {}

  apply(c: KvCommand, meta: { index: number }): unknown {
    this.applied.count++
    this.applied.log?.push({ index: meta.index, command: c })
    switch (c.op) {
      case 'put': {
        const before = this.data.get(c.key)
        this.data.set(c.key, c.value)
        return before
      }
      case 'add': {
        const next = ((this.data.get(c.key) as number | undefined) ?? 0) + c.n
        this.data.set(c.key, next)
        return next
      }
      case 'cas': {
        const current = this.data.get(c.key)
        if (current !== c.expected) return false
        this.data.set(c.key, c.value)
        return true
      }
      case 'fail':
        throw new Error('asked to fail')
    }
  }

  snapshot(): unknown {
    return [...this.data]
  }

  restore(s: unknown): void {
    this.data = new Map(s as Array<[string, unknown]>)
  }

  query(q: KvQuery): unknown {
    return q.op === 'get' ? this.data.get(q.key) : Object.fromEntries(this.data)
  }
}

/** Counts frames a node's transport sends; drops those on a blocked direction. */
function counting(self: string, t: Transport, count: { frames: number }, blocked: Set<string>): Transport {
  return {
    start: (name, handler) => t.start(name, handler),
    send: (node, frame) => {
      count.frames++
      if (!blocked.has(`${self}>${node}`)) t.send(node, frame)
    },
    stop: () => t.stop(),
  }
}

const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve))

export class Cluster {
  readonly net = new MemoryNetwork()
  readonly clock = new ManualClock(1_000_000)
  readonly systems = new Map<string, ActorSystem>()
  readonly frames = { frames: 0 }
  /** One-way blocks, `from>to`. */
  readonly blocked = new Set<string>()
  private readonly prng: Prng

  constructor(
    seed: number,
    private readonly hostOptions: RaftHostOptions = {},
  ) {
    this.prng = new Prng(seed)
  }

  async start(names: string[]): Promise<void> {
    for (const name of names) {
      const rng = this.prng.fork(name)
      const system = new ActorSystem({
        name, clock: this.clock, random: () => rng.next(), transport: counting(name, this.net.transport(), this.frames, this.blocked), askTimeoutMs: 10_000,
      })
      await system.start()
      raftHost(system, this.hostOptions)
      this.systems.set(name, system)
    }
  }

  system(name: string): ActorSystem {
    const s = this.systems.get(name)
    if (!s) throw new Error(`no system ${name}`)
    return s
  }

  /** Opens a group on each of `on` (default: all members) and returns the handles by node. */
  async open<S extends StateMachine<any, any, any, any>>(options: Omit<GroupOptions<S>, 'stateMachine'> & { stateMachine?: (node: string) => S }, on = options.members): Promise<Map<string, RaftGroup<any, any, any, any>>> {
    const handles = new Map<string, RaftGroup<any, any, any, any>>()
    const { stateMachine, ...rest } = options
    await this.settle(
      Promise.all(
        on.map(async (node) => {
          const sm = stateMachine
          handles.set(node, await group(this.system(node), { ...rest, ...(sm ? { stateMachine: () => sm(node) } : {}) } as GroupOptions<S>))
        }),
      ),
    )
    return handles
  }

  /** Lets all ready work finish without moving time. */
  async flush(rounds = 3): Promise<void> {
    for (let i = 0; i < rounds; i++) await macrotask()
  }

  /** Moves time forward `ms` in steps, letting work run after each step. */
  async run(ms: number, stepMs = 5): Promise<void> {
    for (let t = 0; t < ms; t += stepMs) {
      this.clock.advance(stepMs)
      await this.flush()
    }
  }

  /** Runs until `pred` holds; false after `maxMs` of virtual time. */
  async until(pred: () => boolean | Promise<boolean>, maxMs = 10_000, stepMs = 5): Promise<boolean> {
    for (let t = 0; t <= maxMs; t += stepMs) {
      await this.flush()
      if (await pred()) return true
      this.clock.advance(stepMs)
    }
    return false
  }

  /** Runs the clock until `p` settles (SIM-style): throws if it does not within `maxMs` virtual ms. */
  async settle<T>(p: Promise<T>, maxMs = 30_000, stepMs = 5): Promise<T> {
    let done = false
    p.then(
      () => (done = true),
      () => (done = true),
    )
    if (!(await this.until(() => done, maxMs, stepMs))) throw new Error(`still pending after ${maxMs} virtual ms`)
    return p
  }

  /** The node that leads `groupId`, as its own status says, or null. */
  async leaderOf(handles: Map<string, RaftGroup<any, any, any, any>>): Promise<string | null> {
    for (const [node, h] of handles) {
      if (!this.systems.has(node)) continue
      const st = await h.status().catch(() => null)
      if (st?.role === 'leader') return node
    }
    return null
  }

  async waitForLeader(handles: Map<string, RaftGroup<any, any, any, any>>, maxMs = 10_000): Promise<string> {
    let leader: string | null = null
    const ok = await this.until(async () => (leader = await this.leaderOf(handles)) !== null, maxMs)
    if (!ok || leader === null) throw new Error('no leader elected')
    return leader
  }

  async stopNode(name: string): Promise<void> {
    const s = this.system(name)
    this.systems.delete(name)
    await this.settle(s.terminate())
  }

  async stopAll(): Promise<void> {
    for (const name of [...this.systems.keys()]) await this.stopNode(name)
  }
}
