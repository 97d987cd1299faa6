import { bootstrapState, emptyState, RaftCore, RaftError } from '../src/core.js'
import type { ConfChangeType, PersistedState, RaftMessage, RaftOptions, Ready, Snapshot } from '../src/core.js'
import type { TranscriptArgs as Args } from '@troupe/testkit/transcripts'
import { describeEntry, describeMessage, describeReady, describeSnapshotMeta } from './describe.js'

const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder()

/** Durable state of one node, as plain arrays (what a LogStorage would hold). */
export class MemoryLog {
  private state: PersistedState

  constructor(initial: PersistedState) {
    this.state = clone(initial)
  }

  persist(rd: Ready): void {
    const s = this.state
    if (rd.snapshot !== null) {
      const { index, term } = rd.snapshot.meta
      // Keep the tail only if it continues the snapshot's last entry.
      const keep = s.entries.some((e) => e.index === index && e.term === term)
      s.entries = keep ? s.entries.filter((e) => e.index > index) : []
      s.snapshot = rd.snapshot
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!.index
      s.entries = s.entries.filter((e) => e.index < first).concat(rd.entries)
    }
    if (rd.hardState !== null) s.hardState = { ...rd.hardState }
  }

  saveSnapshot(snap: Snapshot): void {
    this.state.snapshot = snap
    this.state.entries = this.state.entries.filter((e) => e.index > snap.meta.index)
  }

  load(): PersistedState {
    return clone(this.state)
  }
}

function clone(s: PersistedState): PersistedState {
  return {
    hardState: { ...s.hardState },
    snapshot: s.snapshot === null ? null : { meta: structuredClone(s.snapshot.meta), data: s.snapshot.data },
    entries: s.entries.map((e) => ({ ...e })),
  }
}

interface Node {
  id: string
  core: RaftCore
  storage: MemoryLog
  options: RaftOptions
  /** The state machine: data of applied normal entries, in order. */
  sm: string[]
  /** A Ready taken by `ready` whose writes are not yet durable. */
  pending: Ready | null
  /** Which add-nodes call created it: each call makes a separate cluster. */
  cluster: number
}

/**
 * An in-memory cluster for transcript tests (etcd's InteractionEnv): nodes,
 * per-destination message queues, storage as plain arrays, and a check that
 * no two nodes ever apply different entries at one index.
 */
export class InteractionEnv {
  readonly nodes = new Map<string, Node>()
  private readonly queues = new Map<string, RaftMessage[]>()
  private readonly isolated = new Set<string>()
  private readonly appliedAt = new Map<string, string>()
  private clusters = 0
  private out: string[] = []
  private indent = ''
  private logging = true

  /** Runs one directive and returns its output ("ok" if it printed nothing). */
  handle(command: string, args: Args): string {
    this.out = []
    this.indent = ''
    try {
      this.dispatch(command, args)
    } catch (e) {
      if (!(e instanceof RaftError)) throw e
      // Errors print even at log-level none.
      this.out.push(`error: ${e.code}: ${e.message}${e.leaderHint !== null ? ` (leader ${e.leaderHint})` : ''}`)
    }
    return this.out.length === 0 ? 'ok' : this.out.join('\n')
  }

  private dispatch(command: string, a: Args): void {
    const ids = a.positional
    switch (command) {
      case 'log-level':
        this.logging = ids[0] !== 'none'
        return
      case 'add-nodes':
        return this.addNodes(Number(ids[0]), a)
      case 'campaign':
        return this.node(ids[0]).core.campaign()
      case 'propose': {
        const h = this.node(ids[0]).core.propose(utf8.encode(ids[1] ?? ''))
        return this.print(`proposed at ${h.term}/${h.index}`)
      }
      case 'propose-conf-change': {
        const type = ({ 'add-voter': 'addVoter', 'add-learner': 'addLearner', remove: 'removeNode' } as Record<string, ConfChangeType>)[ids[1]!]
        if (type === undefined) throw new Error(`unknown conf change ${ids[1]}`)
        const h = this.node(ids[0]).core.proposeConfChange({ type, node: ids[2]! })
        return this.print(`proposed at ${h.term}/${h.index}`)
      }
      case 'transfer-leadership':
        return this.node(one(a, 'from')).core.transferLeadership(one(a, 'to'))
      case 'read-index':
        return this.node(ids[0]).core.readIndex(ids[1]!)
      case 'tick-election':
        return this.tick(ids, (n) => n.options.electionTicks ?? 10)
      case 'tick-heartbeat':
        return this.tick(ids, (n) => n.options.heartbeatTicks ?? 1)
      case 'tick':
        return this.tick(ids.slice(0, 1), () => Number(one(a, 'count')))
      case 'process-ready':
        for (const id of ids) this.processReady(this.node(id), ids.length > 1)
        return
      case 'ready':
        // First half of handling a Ready: take it and send what may go before the writes are durable.
        for (const id of ids) this.takeReady(this.node(id))
        return
      case 'persist':
        // Second half: the writes are durable; send the rest, apply, advance.
        for (const id of ids) this.finishReady(this.node(id))
        return
      case 'deliver-msgs':
        for (const id of ids) this.deliver(id, ids.length > 1)
        return
      case 'drop':
        return this.drop(ids, a.named.has('count') ? Number(one(a, 'count')) : Infinity)
      case 'isolate':
        for (const id of ids) this.isolated.add(id)
        return
      case 'heal':
        this.isolated.clear()
        return
      case 'stabilize':
        return this.stabilize(ids.length > 0 ? ids : [...this.nodes.keys()])
      case 'compact': {
        const n = this.node(ids[0])
        const snap = n.core.compact(Number(ids[1]), encodeSm(n.sm.slice(0, this.smLengthAt(n, Number(ids[1])))))
        if (snap === null) return this.print('already compacted')
        n.storage.saveSnapshot(snap)
        return this.print(`snapshot ${describeSnapshotMeta(snap.meta)}`)
      }
      case 'restart':
        return this.restart(this.node(ids[0]))
      case 'status':
        return this.status(this.node(ids[0]))
      case 'raft-log':
        return this.raftLog(this.node(ids[0]))
      case 'raft-state':
        for (const n of this.nodes.values()) {
          const s = n.core.status()
          this.print(`${n.id}: ${s.role} term=${s.term} lead=${s.leader ?? 0} commit=${s.commit} applied=${s.applied} last=${s.lastIndex}`)
        }
        return
      case 'applied':
        for (const id of ids) this.print(`${id}: [${this.node(id).sm.join(' ')}]`)
        return
      default:
        throw new Error(`unknown command ${command}`)
    }
  }

  private print(line: string): void {
    if (!this.logging) return
    for (const l of line.split('\n')) this.out.push(this.indent + l)
  }

  private node(id: string | undefined): Node {
    const n = id === undefined ? undefined : this.nodes.get(id)
    if (n === undefined) throw new Error(`no node ${id}`)
    return n
  }

  private addNodes(count: number, a: Args): void {
    const voters = a.named.get('voters') ?? []
    const learners = a.named.get('learners') ?? []
    const index = Number(a.named.get('index')?.[0] ?? 1)
    this.clusters++
    const num = (k: string): number | undefined => (a.named.has(k) ? Number(one(a, k)) : undefined)
    const bool = (k: string): boolean | undefined => (a.named.has(k) ? one(a, k) === 'true' : undefined)
    for (let i = 0; i < count; i++) {
      const id = String(this.nodes.size + 1)
      const join = voters.length === 0 || !(voters.includes(id) || learners.includes(id))
      const initial = join ? emptyState() : bootstrapState({ voters, learners }, index)
      const options: RaftOptions = {
        id,
        random: () => 0,
        electionTicks: num('election'),
        heartbeatTicks: num('heartbeat'),
        preVote: bool('prevote'),
        checkQuorum: bool('checkquorum'),
        maxInflightMsgs: num('max-inflight'),
        maxInflightBytes: num('max-inflight-bytes'),
        maxMsgBytes: num('max-msg-bytes'),
        maxUncommittedBytes: num('max-uncommitted-bytes'),
        maxSnapshotChunkBytes: num('snapshot-chunk-bytes'),
        readOnly: a.named.has('read-only') ? (one(a, 'read-only') as 'safe' | 'lease') : undefined,
        log: (line) => this.print(`INFO ${line}`),
      }
      const storage = new MemoryLog(initial)
      const node: Node = { id, core: null as unknown as RaftCore, storage, options, sm: [], pending: null, cluster: this.clusters }
      this.nodes.set(id, node)
      node.core = new RaftCore(options, storage.load())
    }
  }

  private restart(n: Node): void {
    // Anything taken by `ready` but not persisted is lost, as in a crash.
    n.pending = null
    const state = n.storage.load()
    n.sm = state.snapshot === null ? [] : decodeSm(state.snapshot.data)
    n.core = new RaftCore(n.options, state)
  }

  private tick(ids: string[], count: (n: Node) => number): void {
    for (const id of ids) {
      const n = this.node(id)
      for (let i = count(n); i > 0; i--) n.core.tick()
    }
  }

  private processReady(n: Node, header: boolean): void {
    if (header) {
      this.print(`> ${n.id} handling Ready`)
      this.indent = '  '
    }
    if (!n.core.hasReady()) {
      this.print('<empty Ready>')
      this.indent = ''
      return
    }
    const rd = n.core.ready()
    for (const l of describeReady(rd)) this.print(l)
    n.storage.persist(rd)
    for (const m of rd.messages) this.enqueue(m)
    for (const m of rd.messagesAfterPersist) this.enqueue(m)
    this.apply(n, rd)
    n.core.advance(rd)
    this.indent = ''
  }

  private takeReady(n: Node): void {
    if (n.pending !== null) throw new Error(`${n.id} already has a Ready being persisted`)
    if (!n.core.hasReady()) return this.print('<empty Ready>')
    const rd = n.core.ready()
    for (const l of describeReady(rd)) this.print(l)
    for (const m of rd.messages) this.enqueue(m)
    n.pending = rd
  }

  private finishReady(n: Node): void {
    const rd = n.pending
    if (rd === null) throw new Error(`${n.id} has no Ready being persisted`)
    n.pending = null
    n.storage.persist(rd)
    for (const m of rd.messagesAfterPersist) {
      this.print(`sent after persist: ${describeMessage(m)}`)
      this.enqueue(m)
    }
    this.apply(n, rd)
    n.core.advance(rd)
  }

  private apply(n: Node, rd: Ready): void {
    if (rd.snapshot !== null) n.sm = decodeSm(rd.snapshot.data)
    for (const e of rd.committedEntries) {
      const key = `${e.term}/${e.kind}/${fromUtf8.decode(e.data)}`
      const at = `${n.cluster}/${e.index}`
      const seen = this.appliedAt.get(at)
      if (seen !== undefined && seen !== key) throw new Error(`safety violation: ${n.id} applied ${key} at ${e.index}, another node ${seen}`)
      this.appliedAt.set(at, key)
      if (e.kind === 'normal' && e.data.byteLength > 0) n.sm.push(fromUtf8.decode(e.data))
    }
  }

  private enqueue(m: RaftMessage): void {
    if (this.isolated.has(m.from) || this.isolated.has(m.to)) return
    let q = this.queues.get(m.to)
    if (q === undefined) this.queues.set(m.to, (q = []))
    q.push(m)
  }

  private deliver(id: string, header: boolean): boolean {
    const q = this.queues.get(id) ?? []
    this.queues.set(id, [])
    if (q.length === 0) return false
    if (header) {
      this.print(`> ${id} receiving messages`)
      this.indent = '  '
    }
    const n = this.nodes.get(id)
    for (const m of q) {
      this.print(describeMessage(m))
      if (n !== undefined) n.core.step(m)
    }
    this.indent = ''
    return true
  }

  /** Drops the first `count` messages queued to each node. */
  private drop(ids: string[], count: number): void {
    for (const id of ids) {
      const q = this.queues.get(id) ?? []
      for (const m of q.slice(0, count)) this.print(`dropped: ${describeMessage(m)}`)
      this.queues.set(id, q.slice(count))
    }
  }

  private stabilize(ids: string[]): void {
    for (let round = 0; round < 1000; round++) {
      let done = true
      for (const id of ids) {
        const n = this.node(id)
        if (n.pending === null && n.core.hasReady()) {
          done = false
          this.processReady(n, true)
        }
      }
      for (const id of ids) if (this.deliver(id, true)) done = false
      if (done) return
    }
    throw new Error('stabilize did not converge')
  }

  private smLengthAt(n: Node, index: number): number {
    // The state machine counts non-empty normal entries; find how many of them are at or below index.
    const applied = n.core.status().applied
    let extra = 0
    for (const e of n.core.logEntries()) {
      if (e.index > index && e.index <= applied && e.kind === 'normal' && e.data.byteLength > 0) extra++
    }
    return n.sm.length - extra
  }

  private status(n: Node): void {
    const s = n.core.status()
    this.print(`${s.id} ${s.role} term=${s.term} vote=${s.vote ?? 0} lead=${s.leader ?? 0} commit=${s.commit} applied=${s.applied} first=${s.firstIndex} last=${s.lastIndex}`)
    this.print(`config voters=(${s.config.voters.join(' ')}) learners=(${s.config.learners.join(' ')})${s.leadTransferee !== null ? ` transferee=${s.leadTransferee}` : ''}`)
    for (const l of n.core.describeProgress()) this.print(l)
  }

  private raftLog(n: Node): void {
    const ents = n.core.logEntries()
    if (ents.length === 0) this.print('log is empty')
    for (const e of ents) this.print(describeEntry(e))
  }
}

function one(a: Args, key: string): string {
  const v = a.named.get(key)?.[0]
  if (v === undefined) throw new Error(`missing ${key}=`)
  return v
}

function encodeSm(sm: string[]): Uint8Array {
  return utf8.encode(sm.join(','))
}

function decodeSm(data: Uint8Array): string[] {
  const s = fromUtf8.decode(data)
  return s.length === 0 ? [] : s.split(',')
}
