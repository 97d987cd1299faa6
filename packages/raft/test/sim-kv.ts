// A key-value store on one 5-node Raft group, simulated: every node keeps
// its log in a WriteAheadLog on a SimDisk (torn writes, lost unsynced data
// on crash), talks over a SimNetwork (drops, duplicates, reordering,
// partitions incl. one-way), and the nemesis crashes, restarts and pauses
// nodes and skews their clocks. Clients on every node put, compare-and-set
// and read; their history (timeouts recorded as unknown outcomes) must be
// linearizable, every replica must apply the same commands in the same
// order, and once the faults heal every node must serve writes again.
import { ActorSystem } from '@troupe/runtime'
import { FNV1A_OFFSET, fnv1aUpdate } from '@troupe/runtime/hash'
import { checkLinearizability, HistoryRecorder, kvModel, Nemesis, SimWorld, traced } from '@troupe/testkit'
import type { KvInput, NemesisOptions, Prng, ScenarioResult } from '@troupe/testkit'
import { group, WriteAheadLog, type RaftGroup, type RaftHostOptions, type StateMachine } from '../src/index.js'

export type SimCommand = { op: 'put'; key: string; value: number } | { op: 'cas'; key: string; expected: number | undefined; value: number }

/** Replicas of all incarnations report here: index → hash of the applied history up to it. */
export class AppliedHistory {
  readonly violations: string[] = []
  private readonly chainAt = new Map<number, { node: string; chain: number }>()
  /** Values of the commands applied anywhere. */
  readonly values = new Set<number>()
  applied = 0
  /** State machine restores from a snapshot (at boot, or installed from the leader). */
  restores = 0

  record(node: string, index: number, chain: number, value: number): void {
    this.applied++
    this.values.add(value)
    const seen = this.chainAt.get(index)
    if (seen === undefined) this.chainAt.set(index, { node, chain })
    else if (seen.chain !== chain && this.violations.length < 10) {
      this.violations.push(`state machine safety: ${node} and ${seen.node} applied different histories up to index ${index}`)
    }
  }
}

/** The replicated key-value map; its snapshot carries a hash chain of everything it applied. */
export class SimKv implements StateMachine<SimCommand, unknown, { key: string }, unknown> {
  private data = new Map<string, number>()
  private chain = 0

  constructor(
    private readonly node: string,
    private readonly history: AppliedHistory,
  ) {}

  apply(c: SimCommand, meta: { index: number }): unknown {
    let result: unknown
    const current = this.data.get(c.key)
    if (c.op === 'put') {
      this.data.set(c.key, c.value)
      result = current
    } else {
      result = current === c.expected
      if (result) this.data.set(c.key, c.value)
    }
    this.chain = hash(this.chain, `${meta.index}:${c.op}:${c.key}:${c.value}:${String(c.op === 'cas' ? c.expected : '')}`)
    this.history.record(this.node, meta.index, this.chain, c.value)
    return result
  }

  snapshot(): unknown {
    return { data: [...this.data], chain: this.chain }
  }

  restore(s: unknown): void {
    this.history.restores++
    const snap = s as { data: Array<[string, number]>; chain: number }
    this.data = new Map(snap.data)
    this.chain = snap.chain
  }

  query(q: { key: string }): unknown {
    return this.data.get(q.key)
  }
}

function hash(h: number, s: string): number {
  return fnv1aUpdate(h ^ FNV1A_OFFSET, s)
}

export interface KvApp {
  system: ActorSystem
  kv: RaftGroup<SimCommand, unknown, { key: string }, unknown>
  wal: WriteAheadLog
}

export interface RaftKvOptions {
  nodes?: number
  clients?: number
  keys?: number
  /** Virtual ms of client traffic under faults (default 10,000). */
  faultyMs?: number
  /** Virtual ms after the faults heal, traffic continuing (default 3000). */
  recoverMs?: number
  nemesis?: NemesisOptions | false
  snapshotEveryEntries?: number
  host?: RaftHostOptions
  /** Receives the client history before it is checked (for debugging a failing seed). */
  onHistory?: (ops: ReturnType<HistoryRecorder<Input, unknown>['operations']>) => void
}

type Input = KvInput<string, number>

/** Runs one seed; throws (with the trace tail) when a property is violated. */
export async function runRaftKv(seed: number, options: RaftKvOptions = {}): Promise<ScenarioResult> {
  const names = Array.from({ length: options.nodes ?? 5 }, (_, i) => `n${i + 1}`)
  const world = new SimWorld({
    seed,
    network: { latencyMs: { min: 1, max: 8 }, dropProbability: 0.01, duplicateProbability: 0.01, reorderProbability: 0.03, reorderMaxMs: 20 },
  })
  const history = new AppliedHistory()
  const violations: string[] = []
  const stats = { boots: 0, ok: 0, info: 0, fail: 0, abandoned: 0 }
  return traced(world, async () => {
    for (const name of names) {
      world.addNode(
        name,
        async (env): Promise<KvApp> => {
          stats.boots++
          const system = new ActorSystem({ ...env.system, askTimeoutMs: 5000 })
          await system.start()
          const wal = await WriteAheadLog.open(env.disk, { dir: 'raft', segmentBytes: 32 * 1024, maxSegments: 3 })
          const kv = await group(system, {
            id: 'kv',
            members: names,
            stateMachine: () => new SimKv(name, history),
            storage: wal,
            snapshotEveryEntries: options.snapshotEveryEntries ?? 64,
            requestTimeoutMs: 2500,
            attemptTimeoutMs: 600,
            host: options.host ?? {},
          })
          return { system, kv, wal }
        },
        { disk: { tornWrites: true, latencyMs: { min: 0.05, max: 1.5 } } },
      )
    }
    await world.waitUntilUp(5000)

    const rec = new HistoryRecorder<Input, unknown>(() => world.now)
    const rng = world.random('clients')
    const keys = Array.from({ length: options.keys ?? 3 }, (_, i) => `k${i}`)
    let running = true
    let nextValue = 1
    const inFlight = new Set<number>()

    const startClient = (id: number): void => {
      let gen = 0
      const next = (delayMs: number) => world.after(delayMs, () => running && issue(), `client${id}`)
      const issue = () => {
        const up = names.filter((n) => world.node(n).up && !world.node(n).paused)
        if (up.length === 0) return next(50)
        const name = rng.pick(up)
        const node = world.node<KvApp>(name)
        const incarnation = node.incarnation
        const input = chooseInput(rng, keys, () => nextValue++)
        const opId = rec.invoke(`${id}.${gen}`, input)
        inFlight.add(opId)
        let settled = false
        const done = () => {
          settled = true
          inFlight.delete(opId)
          next(rng.range(0, 40))
        }
        const call = input.op === 'get' ? node.app.kv.read({ key: input.key }) : node.app.kv.propose(toCommand(input))
        call.then(
          (out) => {
            if (settled) return
            rec.ok(opId, input.op === 'get' || input.op === 'cas' ? out : undefined)
            stats.ok++
            done()
          },
          (err) => {
            if (settled) return
            // A read that failed changed nothing; a write that failed may still take effect.
            if (input.op === 'get') (rec.fail(opId, err), stats.fail++)
            else (rec.info(opId), stats.info++)
            const code = (err as { code?: string }).code
            if (!['TIMEOUT', 'NOT_LEADER', 'GROUP_STOPPED', 'SESSION_EXPIRED'].includes(code ?? '')) violations.push(`client ${id}: unexpected error ${String(err)}`)
            done()
          },
        )
        // A crashed node never answers: give up on the operation (it stays unknown) and go on as a new client.
        const watch = () => {
          if (settled) return
          if (node.incarnation !== incarnation || !node.up) {
            settled = true
            inFlight.delete(opId)
            stats.abandoned++
            gen++
            return next(rng.range(0, 40))
          }
          world.after(100, watch, 'watch')
        }
        world.after(100, watch, 'watch')
      }
      next(rng.range(0, 100))
    }
    for (let i = 0; i < (options.clients ?? 6); i++) startClient(i)

    const nemesisOptions = options.nemesis === false ? null : {
      intervalMs: 400, durationMs: { min: 200, max: 2500 }, partitions: true, crashes: true, pauses: true, clockSkew: true, flakyLinks: true,
      maxActive: 3, maxDown: 2, ...options.nemesis,
    }
    const nemesis = nemesisOptions ? new Nemesis(world, nemesisOptions) : null
    await world.runFor(500)
    nemesis?.start()
    await world.runFor(options.faultyMs ?? 10_000)
    nemesis?.stop()
    world.network.heal()
    world.network.configure({ dropProbability: 0, duplicateProbability: 0, reorderProbability: 0 })
    for (const name of names) if (world.node(name).state === 'down') world.restart(name)
    world.note('healed')
    await world.runFor(options.recoverMs ?? 3000)
    running = false
    await world.runUntil(() => inFlight.size === 0, 10_000)

    // Liveness: with the faults gone every node serves a write and a read.
    await world.waitUntilUp(5000)
    for (const name of names) {
      const node = world.node<KvApp>(name)
      try {
        await world.waitFor(node.app.kv.propose({ op: 'put', key: 'final', value: nextValue++ }), 15_000)
        await world.waitFor(node.app.kv.read({ key: 'final' }), 15_000)
      } catch (err) {
        violations.push(`after healing, ${name} could not write and read: ${String(err)}`)
      }
    }

    const ops = rec.operations()
    options.onHistory?.(ops)
    const check = checkLinearizability(kvModel<string, number>(), ops, { maxSteps: 5_000_000 })
    if (check.result === 'illegal') violations.push(`history of ${ops.length} operations is not linearizable:\n${check.explanation}`)
    if (check.result === 'unknown') violations.push(`the checker gave up on ${ops.length} operations: ${check.explanation}`)
    violations.push(...history.violations)
    if (stats.ok === 0) violations.push('no operation succeeded: the run tested nothing')

    const result: ScenarioResult = {
      seed,
      traceHash: world.traceHash,
      events: world.traceEvents,
      virtualMs: world.now,
      stats: {
        ...stats, operations: ops.length, applied: history.applied, restores: history.restores, linearizable: check.result === 'ok' ? 1 : 0, checkSteps: check.steps,
        ...Object.fromEntries(Object.entries(nemesis?.counts ?? {}).map(([k, v]) => [`nemesis.${k}`, v])),
      },
    }
    world.dispose()
    if (violations.length > 0) throw new Error(`raft-kv: ${violations.length} violation(s):\n  ${violations.join('\n  ')}`)
    return result
  })
}

function chooseInput(rng: Prng, keys: string[], value: () => number): Input {
  const key = rng.pick(keys)
  const roll = rng.next()
  if (roll < 0.4) return { op: 'get', key }
  if (roll < 0.75) return { op: 'put', key, value: value() }
  // Compare-and-set against a small value range, so some succeed.
  const expected = rng.next() < 0.2 ? undefined : Math.max(1, value() - 1 - rng.int(6))
  return { op: 'cas', key, expected, value: value() }
}

function toCommand(input: Input): SimCommand {
  if (input.op === 'put') return { op: 'put', key: input.key, value: input.value }
  if (input.op === 'cas') return { op: 'cas', key: input.key, expected: input.expected, value: input.value }
  throw new Error(`not a command: ${input.op}`)
}
