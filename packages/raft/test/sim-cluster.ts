import { bootstrapState, emptyState, RaftCore, RaftError } from '../src/core.js'
import type { PersistedState, RaftMessage, RaftOptions, Ready } from '../src/core.js'
import { MemoryLog } from './interaction-env.js'

/** A tiny seeded PRNG (mulberry32): the whole run replays from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder()

interface SimNode {
  id: string
  core: RaftCore
  storage: MemoryLog
  /** A Ready whose messages went out but whose writes are not yet durable. */
  inFlight: Ready | null
  up: boolean
  applied: number
}

export interface Faults {
  drop: number
  duplicate: number
  /** Chance per step that a node crashes (and one that a crashed node restarts). */
  crash: number
  partition: number
}

/**
 * A randomized in-memory cluster that checks Raft's safety properties on
 * every step: at most one leader per term, no two nodes applying different
 * entries at one index, and reads that never miss a write applied before
 * they were issued.
 */
export class SimCluster {
  readonly nodes = new Map<string, SimNode>()
  private net: RaftMessage[] = []
  private readonly leaders = new Map<number, string>()
  private readonly appliedAt = new Map<number, string>()
  private readonly reads = new Map<string, number>()
  /** Partition: nodes on different sides cannot talk (missing = side 0). */
  private side = new Map<string, number>()
  private nextProposal = 0
  private nextRead = 0
  /** Highest index known applied anywhere (a write acknowledged to a client). */
  maxApplied = 0
  readsServed = 0
  proposalsCommitted = 0
  readonly random: () => number

  /** Nodes outside the initial voters start empty and may be added by config changes. */
  constructor(seed: number, ids: string[], private readonly extra: Partial<RaftOptions> = {}, spares: string[] = []) {
    this.random = prng(seed)
    for (const id of ids) this.addNode(id, bootstrapState({ voters: ids, learners: [] }))
    for (const id of spares) this.addNode(id, emptyState())
    this.membership = spares.length > 0
  }

  private readonly membership: boolean
  confChanges = 0

  addNode(id: string, state: PersistedState = emptyState()): void {
    const storage = new MemoryLog(state)
    const node: SimNode = { id, core: this.newCore(id, storage.load()), storage, inFlight: null, up: true, applied: 0 }
    node.applied = node.core.status().applied
    this.nodes.set(id, node)
  }

  private newCore(id: string, state: PersistedState): RaftCore {
    return new RaftCore({ id, random: this.random, electionTicks: 10, heartbeatTicks: 2, ...this.extra }, state)
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)]!
  }

  leader(): SimNode | undefined {
    let best: SimNode | undefined
    for (const n of this.nodes.values()) {
      if (!n.up) continue
      const s = n.core.status()
      if (s.role === 'leader' && (best === undefined || s.term > best.core.status().term)) best = n
    }
    return best
  }

  /** One random event. */
  step(f: Faults, load = true): void {
    const r = this.random()
    const nodes = [...this.nodes.values()]
    if (r < 0.4 && this.net.length > 0) this.deliverOne(f)
    else if (r < 0.6) this.tick(this.pick(nodes))
    else if (r < 0.8) this.process(this.pick(nodes))
    else if (r < 0.87) {
      if (load) this.propose()
    } else if (r < 0.9) {
      if (load) this.read()
    }
    else if (r < 0.915) this.compact(this.pick(nodes))
    else if (r < 0.92) {
      if (load && this.membership) this.changeMembership()
    }
    else if (r < 0.92 + f.crash) this.crash(this.pick(nodes))
    else if (r < 0.92 + f.crash + f.partition) this.repartition()
    // A crashed node comes back after ~50 steps.
    for (const n of nodes) if (!n.up && this.random() < 0.02) this.restart(n)
    this.checkLeaders()
  }

  private deliverOne(f: Faults): void {
    // Reordered, but older messages are likelier to go first, so none waits forever.
    const i = Math.floor(this.random() ** 3 * this.net.length)
    const m = this.net[i]!
    if (this.random() >= f.duplicate) this.net.splice(i, 1)
    if (this.random() < f.drop || (this.side.get(m.from) ?? 0) !== (this.side.get(m.to) ?? 0)) return
    const n = this.nodes.get(m.to)
    if (n === undefined || !n.up) return
    n.core.step(structuredClone(m))
  }

  private tick(n: SimNode): void {
    if (n.up) n.core.tick()
  }

  /** Two phases, like a real driver: send + start writing; later, writes durable → send the rest, apply, advance. */
  process(n: SimNode): void {
    if (!n.up) return
    if (n.inFlight !== null) {
      const rd = n.inFlight
      n.inFlight = null
      n.storage.persist(rd)
      this.net.push(...rd.messagesAfterPersist)
      this.apply(n, rd)
      n.core.advance(rd)
      return
    }
    if (!n.core.hasReady()) return
    const rd = n.core.ready()
    this.net.push(...rd.messages)
    n.inFlight = rd
  }

  private apply(n: SimNode, rd: Ready): void {
    if (rd.snapshot !== null) n.applied = rd.snapshot.meta.index
    for (const e of rd.committedEntries) {
      if (e.index !== n.applied + 1) throw new Error(`${n.id} applied ${e.index} after ${n.applied}`)
      n.applied = e.index
      const key = `${e.term}/${e.kind}/${fromUtf8.decode(e.data)}`
      const seen = this.appliedAt.get(e.index)
      if (seen === undefined) {
        this.appliedAt.set(e.index, key)
        if (e.data.byteLength > 0 && e.kind === 'normal') this.proposalsCommitted++
      } else if (seen !== key) {
        throw new Error(`state machine safety: ${n.id} applied ${key} at ${e.index}, another node applied ${seen}`)
      }
      this.maxApplied = Math.max(this.maxApplied, e.index)
    }
    for (const rs of rd.readStates) {
      const ctx = rs.ctx as string
      const needed = this.reads.get(ctx)
      if (needed === undefined) continue
      if (rs.index < needed) throw new Error(`stale read ${ctx}: index ${rs.index} < ${needed} applied before it was issued`)
      if (n.applied < rs.index) throw new Error(`read ${ctx} released before apply (${n.applied} < ${rs.index})`)
      this.reads.delete(ctx)
      this.readsServed++
    }
  }

  private propose(): void {
    const up = [...this.nodes.values()].filter((n) => n.up)
    if (up.length === 0) return
    const n = this.pick(up)
    try {
      n.core.propose(utf8.encode(`p${this.nextProposal++}`))
    } catch (e) {
      if (!(e instanceof RaftError)) throw e
    }
  }

  private read(): void {
    const up = [...this.nodes.values()].filter((n) => n.up)
    if (up.length === 0) return
    const ctx = `r${this.nextRead++}`
    try {
      this.pick(up).core.readIndex(ctx)
      this.reads.set(ctx, this.maxApplied)
    } catch (e) {
      if (!(e instanceof RaftError)) throw e
    }
  }

  /** The leader adds a learner, promotes one, or removes a member (keeping 3 voters). */
  private changeMembership(): void {
    const l = this.leader()
    if (l === undefined) return
    const { voters, learners } = l.core.status().config
    const others = [...this.nodes.keys()].filter((id) => !voters.includes(id) && !learners.includes(id))
    const options: Array<{ type: 'addVoter' | 'addLearner' | 'removeNode'; node: string }> = []
    for (const id of others) options.push({ type: 'addLearner', node: id })
    for (const id of learners) options.push({ type: 'addVoter', node: id }, { type: 'removeNode', node: id })
    if (voters.length > 3) for (const id of voters) options.push({ type: 'removeNode', node: id })
    if (options.length === 0) return
    try {
      l.core.proposeConfChange(this.pick(options))
      this.confChanges++
    } catch (e) {
      if (!(e instanceof RaftError)) throw e
    }
  }

  private compact(n: SimNode): void {
    if (!n.up) return
    const s = n.core.status()
    if (s.applied - s.firstIndex < 5) return
    const snap = n.core.compact(s.applied - 2, utf8.encode(`state@${s.applied - 2}`))
    if (snap !== null) n.storage.saveSnapshot(snap)
  }

  private crash(n: SimNode): void {
    // Unsynced writes (the in-flight Ready) are lost.
    n.up = false
    n.inFlight = null
  }

  private restart(n: SimNode): void {
    const state = n.storage.load()
    n.core = this.newCore(n.id, state)
    n.applied = n.core.status().applied
    n.up = true
  }

  /** Half the time heals; otherwise splits the nodes into two sides that cannot talk. */
  private repartition(): void {
    this.side = new Map()
    if (this.random() < 0.5) return
    for (const id of this.nodes.keys()) this.side.set(id, this.random() < 0.5 ? 1 : 0)
  }

  heal(): void {
    this.side = new Map()
    for (const n of this.nodes.values()) if (!n.up) this.restart(n)
  }

  private checkLeaders(): void {
    for (const n of this.nodes.values()) {
      if (!n.up) continue
      const s = n.core.status()
      if (s.role !== 'leader') continue
      const prev = this.leaders.get(s.term)
      if (prev !== undefined && prev !== n.id) throw new Error(`election safety: ${prev} and ${n.id} both lead term ${s.term}`)
      this.leaders.set(s.term, n.id)
    }
  }

  /** Runs fault-free (no drops, no partitions) until every node applied `index`, or gives up. */
  settle(maxSteps: number): boolean {
    const none: Faults = { drop: 0, duplicate: 0, crash: 0, partition: 0 }
    const target = this.maxApplied
    this.propose()
    for (let i = 0; i < maxSteps; i++) {
      // Drain the backlog faster than new traffic arrives.
      if (this.net.length > 0) this.deliverOne(none)
      this.step(none, false)
      if (i % 500 === 499 && this.maxApplied === target) this.propose()
      const l = this.leader()
      if (l === undefined || this.maxApplied === 0) continue
      const { voters, learners } = l.core.status().config
      const members = [...voters, ...learners].map((id) => this.nodes.get(id)!)
      if (members.every((n) => n.applied >= this.maxApplied)) return true
    }
    return false
  }

  get terms(): number {
    return this.leaders.size
  }
}
