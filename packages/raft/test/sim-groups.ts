// A small harness for scripted group scenarios (the MIT 6.824 lab tests) on
// the simulator: N nodes, one 'kv' group, WAL storage on SimDisks, and
// helpers in the style of the lab's config.go (checkOneLeader, disconnect,
// crash, one()).
import { ActorSystem } from '@troupe/runtime'
import { SimWorld, type Cut, type LinkConfig } from '@troupe/testkit'
import { group, WriteAheadLog, type GroupStatus } from '../src/index.js'
import { AppliedHistory, SimKv, type KvApp, type SimCommand } from './sim-kv.js'

export interface GroupWorldOptions {
  snapshotEveryEntries?: number
  network?: Partial<LinkConfig>
  tornWrites?: boolean
  requestTimeoutMs?: number
}

export class GroupWorld {
  readonly world: SimWorld
  readonly names: string[]
  readonly history = new AppliedHistory()
  /** Leader seen per term, over every status taken. */
  private readonly leaderOfTerm = new Map<number, string>()
  readonly violations: string[] = []
  private readonly cuts = new Map<string, Cut>()
  private nextValue = 1

  constructor(
    readonly seed: number,
    count: number,
    private readonly o: GroupWorldOptions = {},
  ) {
    this.world = new SimWorld({ seed, network: { latencyMs: { min: 1, max: 5 }, ...o.network } })
    this.names = Array.from({ length: count }, (_, i) => `n${i + 1}`)
  }

  async start(): Promise<void> {
    for (const name of this.names) {
      this.world.addNode(
        name,
        async (env): Promise<KvApp> => {
          const system = new ActorSystem({ ...env.system, askTimeoutMs: 5000 })
          await system.start()
          const wal = await WriteAheadLog.open(env.disk, { dir: 'raft', segmentBytes: 16 * 1024, maxSegments: 3 })
          const kv = await group(system, {
            id: 'kv', members: this.names, stateMachine: () => new SimKv(name, this.history), storage: wal,
            snapshotEveryEntries: this.o.snapshotEveryEntries ?? 1000, requestTimeoutMs: this.o.requestTimeoutMs ?? 3000, attemptTimeoutMs: 500,
          })
          return { system, kv, wal }
        },
        { disk: { tornWrites: this.o.tornWrites ?? true, latencyMs: { min: 0.05, max: 1 } } },
      )
    }
    await this.world.waitUntilUp(5000)
  }

  app(name: string): KvApp {
    return this.world.node<KvApp>(name).app
  }

  up(name: string): boolean {
    return this.world.node(name).up
  }

  connected(name: string): boolean {
    return !this.cuts.has(name) && this.up(name)
  }

  disconnect(name: string): void {
    if (!this.cuts.has(name)) this.cuts.set(name, this.world.network.isolate(name))
  }

  connect(name: string): void {
    const cut = this.cuts.get(name)
    if (cut === undefined) return
    this.cuts.delete(name)
    this.world.network.restore(cut)
  }

  crash(name: string): void {
    if (this.up(name)) this.world.crash(name)
  }

  async restart(name: string): Promise<void> {
    if (this.world.node(name).state === 'down') this.world.restart(name)
    await this.world.runUntil(() => this.up(name), 5000)
  }

  value(): number {
    return this.nextValue++
  }

  /** Statuses of the given (up) nodes; every one is checked for two leaders in one term. */
  async statuses(names = this.names.filter((n) => this.up(n))): Promise<GroupStatus[]> {
    const all = await this.world.waitFor(Promise.all(names.map((n) => this.app(n).kv.status())), 2000)
    const out: GroupStatus[] = []
    for (const st of all) {
      if (st === null) continue
      out.push(st)
      if (st.role !== 'leader') continue
      const seen = this.leaderOfTerm.get(st.term)
      if (seen !== undefined && seen !== st.node) this.violations.push(`election safety: ${seen} and ${st.node} both led term ${st.term}`)
      this.leaderOfTerm.set(st.term, st.node)
    }
    return out
  }

  /** Like the lab's checkOneLeader: the single leader of the newest term among connected nodes (waits up to maxMs). */
  async checkOneLeader(maxMs = 5000): Promise<string> {
    for (let waited = 0; waited <= maxMs; waited += 100) {
      const sts = await this.statuses(this.names.filter((n) => this.connected(n)))
      const leaders = sts.filter((s) => s.role === 'leader')
      if (leaders.length > 0) {
        const term = Math.max(...leaders.map((l) => l.term))
        const newest = leaders.filter((l) => l.term === term)
        if (newest.length > 1) throw new Error(`term ${term} has ${newest.length} leaders`)
        return newest[0]!.node
      }
      await this.world.runFor(100)
    }
    throw new Error(`no leader among connected nodes after ${maxMs} ms`)
  }

  /** No connected node claims leadership (after letting elections run for `forMs`). */
  async checkNoLeader(among: string[], forMs = 2000): Promise<void> {
    await this.world.runFor(forMs)
    const leaders = (await this.statuses(among)).filter((s) => s.role === 'leader')
    if (leaders.length > 0) throw new Error(`unexpected leader ${leaders[0]!.node} at term ${leaders[0]!.term}`)
  }

  /** Proposes through `name`'s handle without driving the world; settles with 'ok' and the result, or the error code. */
  submit(name: string, cmd: SimCommand, timeoutMs = 3000): Promise<{ ok: true; value: unknown } | { ok: false; code: string }> {
    const node = this.world.node(name)
    const incarnation = node.incarnation
    return new Promise((resolve) => {
      let done = false
      this.app(name).kv.propose(cmd, { timeoutMs }).then(
        (value) => done || ((done = true), resolve({ ok: true, value })),
        (err) => done || ((done = true), resolve({ ok: false, code: String((err as { code?: string }).code ?? err) })),
      )
      // A crashed node never answers: its client learns nothing (the command may still apply).
      const watch = () => {
        if (done) return
        if (node.incarnation !== incarnation || !node.up) return (done = true), resolve({ ok: false, code: 'CRASHED' })
        this.world.after(100, watch, 'watch')
      }
      this.world.after(100, watch, 'watch')
    })
  }

  /** Like submit, running the world until it settles. */
  async propose(name: string, cmd: SimCommand, timeoutMs = 3000): Promise<{ ok: true; value: unknown } | { ok: false; code: string }> {
    return this.world.waitFor(this.submit(name, cmd, timeoutMs), timeoutMs + 5000)
  }

  /** Like the lab's one(): writes a fresh value through any connected node until it commits; returns the value. */
  async one(key: string, maxMs = 10_000): Promise<number> {
    const value = this.value()
    const deadline = this.world.now + maxMs
    while (this.world.now < deadline) {
      const name = this.names.find((n) => this.connected(n) && this.up(n))
      if (name === undefined) throw new Error('no connected node')
      const r = await this.propose(name, { op: 'put', key, value }, Math.min(3000, deadline - this.world.now))
      if (r.ok) return value
      await this.world.runFor(100)
    }
    throw new Error(`one(${key}): value ${value} did not commit within ${maxMs} ms`)
  }

  async read(name: string, key: string, timeoutMs = 5000): Promise<unknown> {
    return this.world.waitFor(this.app(name).kv.read({ key }, { timeoutMs }), timeoutMs + 5000)
  }

  /** Waits until every up node has applied the same index; returns it. */
  async converged(maxMs = 10_000): Promise<number> {
    let applied = -1
    for (let waited = 0; waited <= maxMs; waited += 100) {
      const sts = await this.statuses()
      const indexes = new Set(sts.map((s) => s.applied))
      if (indexes.size === 1 && sts.length === this.names.filter((n) => this.up(n)).length) {
        applied = sts[0]!.applied
        if (sts.every((s) => s.commit === applied)) return applied
      }
      await this.world.runFor(100)
    }
    throw new Error(`replicas did not converge within ${maxMs} ms`)
  }

  /** Throws if any safety property was seen broken. */
  check(): void {
    const all = [...this.violations, ...this.history.violations]
    if (all.length > 0) throw new Error(all.join('\n'))
  }

  dispose(): void {
    this.world.dispose()
  }
}
