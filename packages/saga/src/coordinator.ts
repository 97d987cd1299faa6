import type { ActorRef, ActorSystem } from '@troupe/runtime'
import type { Saga, SagaPlan } from './definition.js'
import { isSagaError, SagaError } from './errors.js'
import { appendDurably, sleep } from './internal/durable-append.js'
import type { AppendEnv } from './internal/durable-append.js'
import { orchestratorDef } from './internal/orchestrator.js'
import type { OrchestratorEnv } from './internal/orchestrator.js'
import { closeTimeoutMs, Drain } from './internal/drain.js'
import type { CloseOptions, CloseResult } from './internal/drain.js'
import { historyProblem } from './internal/history-check.js'
import { SagaMachine } from './internal/saga-machine.js'
import { SagaWaiters } from './internal/saga-waiters.js'
import { roundTrip, sameEncoding } from './log/record-codec.js'
import type { SagaLog } from './log/saga-log.js'
import type { SagaRecord, SagaRecordBody } from './records.js'
import { errorInfo, isFinished } from './records.js'
import type { RetryPolicy } from './retry-policy.js'
import { resolveRetry, retryDelayMs } from './retry-policy.js'
import type { SagaListener } from './saga-events.js'
import { Listeners } from './saga-events.js'
import type { SagaResult, SagaStatus } from './saga-status.js'
import { describeHistory, resultOf } from './saga-status.js'

export interface SagaCoordinatorOptions {
  /** The node's actor system: orchestrators are its actors, its clock and random drive timers and jitter. */
  system: ActorSystem
  /** Where every transition is recorded before it is acted on. */
  log: SagaLog
  /** Definitions this coordinator can resume from the log (`run` registers its own). */
  definitions?: Saga<any, any>[]
  /** Most sagas this coordinator drives at once; `start` beyond it rejects with OVERLOADED. Default 10,000. */
  maxActiveSagas?: number
  /** How appends are retried while the log is unavailable (a Raft group without a leader). Default: forever, 50 ms doubling to 2 s. */
  logRetry?: RetryPolicy
  /** How often `wait` reads the log for a saga another node drives (ms). Default 200. */
  pollMs?: number
  /** Receives a line for every loud condition: stuck sagas, fencing, log failures. Default: console.error. */
  report?: (line: string) => void
}

export interface StartOptions {
  /** The saga's id; `run` and `start` are idempotent on it. Default: a fresh id. */
  id?: string
}

export interface RecoverOptions {
  /** Resume the unfinished sagas last owned by these nodes (default: this node). Pass 'all' for every unfinished saga. */
  owners?: string[] | 'all'
}

interface Active { ref: ActorRef | null; saga: string }

/**
 * Runs sagas on one node: records them in the log, drives each with an
 * orchestrator actor, resumes unfinished ones after a restart (`recover`)
 * or another node's failure (`recover({ owners: [thatNode] })`), and
 * answers `status`/`history` from the log.
 */
export class SagaCoordinator {
  readonly node: string
  /** `<node>#<nonce>`: written as `by` on every record of this coordinator. */
  readonly writer: string
  private readonly system: ActorSystem
  private readonly log: SagaLog
  private readonly definitions = new Map<string, SagaPlan>()
  private readonly active = new Map<string, Active>()
  private readonly waiters: SagaWaiters
  private readonly starting = new Map<string, Promise<{ id: string; created: boolean }>>()
  private readonly listeners: Listeners
  private readonly maxActive: number
  private readonly appendEnv: AppendEnv
  private readonly pollMs: number
  private readonly report: (line: string) => void
  private counter = 0
  private closed = false
  private closing: Promise<CloseResult> | null = null
  private readonly drain: Drain

  constructor(options: SagaCoordinatorOptions) {
    this.system = options.system
    this.log = options.log
    this.node = options.system.name
    this.writer = `${this.node}#${Math.floor(options.system.random() * 2 ** 32).toString(36)}`
    this.maxActive = options.maxActiveSagas ?? 10_000
    this.pollMs = options.pollMs ?? 200
    this.report = options.report ?? ((line) => console.error(line))
    this.waiters = new SagaWaiters(this.system.clock)
    this.listeners = new Listeners((err) => this.report(`saga listener threw: ${String(err)}`))
    const retry = resolveRetry(options.logRetry, { attempts: Infinity, backoffMs: 50, maxBackoffMs: 2_000 }, 'logRetry')
    this.drain = new Drain({ clock: this.system.clock, driven: () => this.active.keys(), starting: () => this.starting.size })
    this.appendEnv = { log: this.log, clock: this.system.clock, retry, closed: () => this.closed }
    for (const def of options.definitions ?? []) this.register(def)
  }

  /** Makes a definition resumable from the log. A different definition under a known name is refused. */
  register(def: Saga<any, any>): void {
    const known = this.definitions.get(def.name)
    if (known && known !== def.plan) throw new SagaError('INVALID_ARGUMENT', `another saga definition is registered as '${def.name}'`)
    this.definitions.set(def.name, def.plan)
  }

  /** Listens to every transition and outcome of the sagas this coordinator drives. */
  subscribe(listener: SagaListener): () => void {
    return this.listeners.add(listener)
  }

  /**
   * Records the saga as accepted (SagaStarted is durable once this resolves)
   * and starts driving it. Idempotent on `id`: for a known id nothing new
   * starts (`created: false`); SAGA_ID_CONFLICT if that saga has another
   * definition or other input.
   */
  async start<I>(def: Saga<I, any>, input: I, options: StartOptions = {}): Promise<{ id: string; created: boolean }> {
    this.checkOpen()
    this.register(def)
    const id = options.id ?? this.freshId()
    if (typeof id !== 'string' || id.length === 0 || id.length > 400) throw new SagaError('INVALID_ARGUMENT', 'a saga id is a string of 1 to 400 characters')
    // A start of this id in flight here: acknowledge only once its SagaStarted is durable.
    const inFlight = this.starting.get(id)
    if (inFlight) return inFlight.then(() => ({ id, created: false }))
    // Driven here (resumed from the log): its SagaStarted is durable.
    if (this.active.has(id)) return { id, created: false }
    const started = this.startNew(def, input, id)
    this.starting.set(id, started)
    try {
      return await started
    } finally {
      this.starting.delete(id)
      this.drain.check()
    }
  }

  private async startNew<I>(def: Saga<I, any>, input: I, id: string): Promise<{ id: string; created: boolean }> {
    if (this.active.size >= this.maxActive) throw new SagaError('OVERLOADED', `${this.active.size} sagas active on ${this.node} (maxActiveSagas)`)
    let copy: unknown
    try {
      copy = roundTrip(input)
    } catch (err) {
      throw new SagaError('INVALID_ARGUMENT', `saga input must be CBOR-encodable: ${(err as Error).message}`, { cause: err })
    }
    const started = this.stamp({ type: 'SagaStarted', saga: def.name, input: copy, owner: this.node })
    // The first steps' StepScheduled go in the same append: one durable write fewer per saga.
    const machine = new SagaMachine(def.plan, retryDelayMs)
    machine.apply(started, false)
    const first = machine.next()
    const records = [started, ...first.records.map((body) => this.stamp(body))]
    const claim: Active = { ref: null, saga: def.name }
    this.active.set(id, claim)
    const release = () => this.active.get(id) === claim && this.active.delete(id)
    try {
      if ((await appendDurably(this.appendEnv, { id, seq: 0, records })) === 'ok') {
        this.emitRecords(id, def.name, records)
        this.spawn(id, def.plan, records, { machine, calls: first.calls })
        return { id, created: true }
      }
    } catch (err) {
      release()
      throw err
    }
    release()
    const history = await this.log.read(id)
    const head = history?.[0]
    if (head?.type !== 'SagaStarted' || head.saga !== def.name || !sameEncoding(head.input, copy)) {
      throw new SagaError('SAGA_ID_CONFLICT', `id ${id} belongs to ${head?.type === 'SagaStarted' ? `a '${head.saga}' saga with other input` : 'something else'}`)
    }
    // Started by an earlier incarnation of this node (its acknowledgement was lost in a crash), and
    // `recover` has not picked it up: drive it from here.
    const status = describeHistory(id, history!)
    if (status?.owner === this.node && !isFinished(history!) && !this.active.has(id)) await this.resume(id, history!, 'recovery')
    return { id, created: false }
  }

  /** `start`, then `wait`: resolves with the outcome. */
  async run<I, R extends object>(def: Saga<I, R>, input: I, options: StartOptions = {}): Promise<SagaResult<R>> {
    const { id } = await this.start(def, input, options)
    return (await this.wait(id)) as SagaResult<R>
  }

  /**
   * Resolves once the saga is completed, compensated or stuck. For a saga
   * another node drives, reads the log every `pollMs`. WAIT_TIMEOUT after
   * `timeoutMs` (default: none), SAGA_NOT_FOUND for an unknown id.
   */
  async wait(id: string, options: { timeoutMs?: number } = {}): Promise<SagaResult> {
    this.checkOpen()
    const deadline = options.timeoutMs === undefined ? Infinity : this.system.clock.now() + options.timeoutMs
    for (;;) {
      if (this.active.has(id)) {
        const outcome = await this.waiters.wait(id, deadline)
        if (outcome) return outcome
        continue // fenced: another node drives it now; read the log
      }
      const status = await this.status(id)
      if (!status) throw new SagaError('SAGA_NOT_FOUND', `no saga ${id}`)
      const result = resultOf(status)
      if (result) return result
      if (this.system.clock.now() >= deadline) throw new SagaError('WAIT_TIMEOUT', `saga ${id} still ${status.state}`)
      await sleep(this.system.clock, Math.min(this.pollMs, Math.max(1, deadline - this.system.clock.now())))
      this.checkOpen()
    }
  }

  /** The saga as its durable history describes it, or null. */
  async status(id: string): Promise<SagaStatus | null> {
    const history = await this.log.read(id)
    return history ? describeHistory(id, history) : null
  }

  /** The recorded transitions of a saga, oldest first, or null. */
  async history(id: string): Promise<SagaRecord[] | null> {
    return this.log.read(id)
  }

  /** Ids of the sagas this coordinator drives now. */
  activeIds(): string[] {
    return [...this.active.keys()]
  }

  /**
   * Resumes unfinished sagas: after a restart (default: those this node
   * owned) or when another node failed (`owners: [thatNode]`). Each gets a
   * SagaResumed record first, which fences out any coordinator still
   * driving it elsewhere. Returns the ids resumed here.
   */
  async recover(options: RecoverOptions = {}): Promise<string[]> {
    this.checkOpen()
    const owners = options.owners ?? [this.node]
    const resumed: string[] = []
    for (const id of await this.log.unfinished()) {
      if (this.active.has(id)) continue
      const history = await this.log.read(id)
      const status = history ? describeHistory(id, history) : null
      if (!history || !status || isFinished(history)) continue
      if (owners !== 'all' && !owners.includes(status.owner)) continue
      if (await this.resume(id, history, status.owner === this.node ? 'recovery' : 'takeover')) resumed.push(id)
    }
    return resumed
  }

  /**
   * Tries the compensation of a stuck saga again (after an operator fixed
   * what made it fail): the stuck step's undo gets a fresh retry budget.
   */
  async retry(id: string): Promise<void> {
    this.checkOpen()
    const history = await this.log.read(id)
    const status = history ? describeHistory(id, history) : null
    if (!history || !status) throw new SagaError('SAGA_NOT_FOUND', `no saga ${id}`)
    if (status.state !== 'stuck') throw new SagaError('BAD_STATE', `saga ${id} is ${status.state}, not stuck`)
    if (this.active.has(id)) return
    if (!(await this.resume(id, history, 'retry'))) throw new SagaError('LOG_CONFLICT', `saga ${id} changed while it was being retried`)
  }

  /**
   * Stops driving sagas; histories stay in the log for `recover()` (here or
   * elsewhere). New work fails with CLOSED at once; running steps get
   * `timeoutMs` to finish (outcomes recorded, nothing new begins). Resolves
   * with the unfinished sagas: `parked`, or `interrupted` (a step still ran).
   */
  close(options: CloseOptions = {}): Promise<CloseResult> {
    return (this.closing ??= this.shutDown(closeTimeoutMs(options)))
  }

  private async shutDown(timeoutMs: number): Promise<CloseResult> {
    await this.drain.run(timeoutMs, () => this.active.forEach((a) => a.ref?.tell('drain', undefined)))
    this.closed = true
    const result = this.drain.outcome([...this.active.keys()])
    const refs = [...this.active.values()].map((a) => a.ref).filter((r): r is ActorRef => r !== null)
    await Promise.all(refs.map((ref) => this.system.stop(ref).catch(() => undefined)))
    this.active.clear()
    this.waiters.close()
    return result
  }


  private async resume(id: string, history: SagaRecord[], reason: 'recovery' | 'takeover' | 'retry'): Promise<boolean> {
    const first = history[0]
    if (first?.type !== 'SagaStarted') return false
    const plan = this.definitions.get(first.saga)
    if (!plan) {
      this.fail(id, first.saga, new SagaError('UNKNOWN_SAGA', `saga ${id} is a '${first.saga}', which is not registered on ${this.node}`))
      return false
    }
    const mismatch = historyProblem(plan, history)
    if (mismatch) {
      this.fail(id, first.saga, new SagaError('UNKNOWN_SAGA', `saga ${id} does not match the registered '${first.saga}': ${mismatch}`))
      return false
    }
    // Checked and claimed in one turn: concurrent recover/start/retry calls resume a saga once here.
    if (this.active.has(id)) return false
    if (this.active.size >= this.maxActive) throw new SagaError('OVERLOADED', `${this.active.size} sagas active on ${this.node} (maxActiveSagas)`)
    const resumed = this.stamp({ type: 'SagaResumed', owner: this.node, reason })
    const claim: Active = { ref: null, saga: first.saga }
    this.active.set(id, claim)
    const release = () => this.active.get(id) === claim && this.active.delete(id)
    try {
      if ((await appendDurably(this.appendEnv, { id, seq: history.length, records: [resumed] })) === 'conflict') {
        release()
        return false
      }
    } catch (err) {
      release()
      throw err
    }
    this.emitRecords(id, first.saga, [resumed])
    this.spawn(id, plan, [...history, resumed])
    return true
  }

  private emitRecords(id: string, saga: string, records: SagaRecord[]): void {
    for (const record of records) this.listeners.emit({ type: 'record', sagaId: id, saga, record })
  }

  private spawn(id: string, plan: SagaPlan, history: SagaRecord[], started?: OrchestratorEnv['started']): void {
    const entry = this.active.get(id)!
    const def = orchestratorDef({
      id,
      plan,
      history,
      ...(started ? { started } : {}),
      log: this.log,
      writer: this.writer,
      logRetry: this.appendEnv.retry,
      closed: () => this.closed,
      draining: () => this.drain.active,
      parked: () => this.active.get(id) === entry && this.drain.parked(id),
      emit: (event) => this.listeners.emit(event),
      finished: (machine) => this.onFinished(id, plan, machine),
      fenced: () => this.onFenced(id, plan),
      failed: (err) => this.onFailed(id, plan, err),
    })
    const ref = this.system.spawnSystemActor(def, { name: `saga-${this.writer.replace('#', '-')}-${++this.counter}` })
    entry.ref = ref
    void this.system.whenTerminated(ref).then((reason) => {
      if (this.active.get(id)?.ref !== ref) return
      // Stopped without finishing, being fenced or failing: its handler threw (a bug) or the system stopped.
      this.active.delete(id)
      const error = reason.kind === 'failed' ? reason.error : new SagaError('CLOSED', `orchestrator of ${id} stopped (${reason.kind})`)
      this.onFailed(id, plan, error)
    })
  }

  private onFinished(id: string, plan: SagaPlan, machine: SagaMachine): void {
    this.active.delete(id)
    this.drain.check()
    let result: SagaResult
    if (machine.phase === 'completed') {
      result = { status: 'completed', id, results: machine.results() }
      this.listeners.emit({ type: 'completed', sagaId: id, saga: plan.name, results: result.results })
    } else if (machine.phase === 'compensated') {
      result = { status: 'compensated', id, cause: machine.cause! }
      this.listeners.emit({ type: 'compensated', sagaId: id, saga: plan.name, cause: result.cause })
    } else {
      const stuck = machine.stuck!
      result = { status: 'stuck', id, step: stuck.step, error: stuck.error, cause: machine.cause! }
      this.report(`saga ${id} (${plan.name}) is STUCK: the undo of step ${stuck.step} failed past its policy (${stuck.error.message}); it was compensating because ${machine.cause!.step} failed: ${machine.cause!.error.message}`)
      this.listeners.emit({ type: 'stuck', sagaId: id, saga: plan.name, step: stuck.step, error: stuck.error, cause: machine.cause! })
    }
    this.waiters.finished(id, result)
  }

  private onFenced(id: string, plan: SagaPlan): void {
    this.active.delete(id)
    this.drain.check()
    this.report(`saga ${id} (${plan.name}): another coordinator appended to its history; ${this.node} stopped driving it`)
    this.listeners.emit({ type: 'fenced', sagaId: id, saga: plan.name })
    // Waiters go on by reading the log (see wait).
    this.waiters.fenced(id)
  }

  private onFailed(id: string, plan: SagaPlan, err: unknown): void {
    this.active.delete(id)
    this.drain.check()
    this.fail(id, plan.name, err)
  }

  private fail(id: string, saga: string, err: unknown): void {
    this.report(`saga ${id} (${saga}) cannot be driven on ${this.node}: ${(err as Error)?.message ?? String(err)}`)
    this.listeners.emit({ type: 'error', sagaId: id, saga, error: errorInfo(err) })
    const error = isSagaError(err) ? err : new SagaError('LOG_FAILED', `saga ${id}: ${(err as Error)?.message ?? String(err)}`, { cause: err })
    this.waiters.failed(id, error)
  }

  private stamp(body: SagaRecordBody): SagaRecord {
    return { ...body, atMs: this.system.clock.now(), by: this.writer } as SagaRecord
  }

  private freshId(): string {
    const rand = Math.floor(this.system.random() * 2 ** 48).toString(36)
    return `${this.node}-${rand}-${++this.counter}`
  }

  private checkOpen(): void {
    if (this.closed || this.drain.active) throw new SagaError('CLOSED', `saga coordinator on ${this.node} is closed`)
  }
}
