import { saga } from '../src/index.js'
import type { ErrorInfo, Saga, SagaRecordBody } from '../src/index.js'
import { SagaError } from '../src/errors.js'
import { recordedAttemptsMax, SagaMachine } from '../src/internal/saga-machine.js'
import type { Batch, CallOutcome, CallPhase, SagaPhase } from '../src/internal/saga-machine.js'
import { retryDelayMs } from '../src/retry-policy.js'
import type { StepSpec } from '../src/definition.js'
import type { TranscriptArgs as Args } from '@troupe/testkit/transcripts'

/**
 * The commands of the saga machine's transcripts (testdata/*.txt). The
 * script plays the driver: it keeps the durable log (every batch's records
 * are appended at once), starts nothing itself, and prints what the machine
 * asks for: records to append, calls to start, backoff timers to arm.
 *
 *   define NAME STAGE... [attempts=N] [backoff=MS] [max=MS] [undo-attempts=N]
 *       a stage is a step (`reserve`), parallel steps (`hold+charge`); a step
 *       may end in `:pivot`, `:retriable` or `:noundo`
 *   start                      SagaStarted and the first decisions, one append
 *   ok do:STEP [result=X]      the call's latest attempt returned (`attempt=N` for an older one)
 *   fail do:STEP code=C [nonretryable]
 *   timeout do:STEP            the call did not settle in time (STEP_TIMEOUT)
 *   retry-due do:STEP          its backoff timer fired
 *   flaky do:STEP times=N code=C   N rounds of fail + retry-due; prints the last
 *   crash                      the machine and its timers are gone; the log stays
 *   recover [reason=R]         a fresh machine replays the log, appends SagaResumed, goes on
 *   log                        the durable history
 *
 * `undo:STEP` in place of `do:STEP` reports on a compensation.
 */
export class MachineScript {
  private def: Saga<unknown, any> | null = null
  private machine: SagaMachine | null = null
  private readonly log: SagaRecordBody[] = []
  /** Latest attempt started per call (`do:reserve`). */
  private readonly started = new Map<string, number>()
  private readonly timers = new Set<string>()
  private shownPhase: SagaPhase = 'new'

  handle(command: string, args: Args): string {
    switch (command) {
      case 'define':
        return this.define(args)
      case 'start':
        return this.start()
      case 'ok':
        return this.settle(args, { ok: true, result: parseValue(args.named.get('result')?.[0] ?? 'null') })
      case 'fail':
        return this.settle(args, failure(args.named.get('code')?.[0] ?? 'FAILED', !args.positional.includes('nonretryable')))
      case 'timeout':
        return this.settle(args, timedOut(args.positional[0]!))
      case 'retry-due':
        return this.retryDue(args.positional[0]!)
      case 'flaky':
        return this.flaky(args)
      case 'crash':
        return this.crash()
      case 'recover':
        return this.recover((args.named.get('reason')?.[0] ?? 'recovery') as 'recovery' | 'takeover' | 'retry')
      case 'log':
        return this.log.map((r, i) => `${i} ${formatRecord(r)}`).join('\n')
      default:
        throw new Error(`unknown command ${command}`)
    }
  }

  private define(args: Args): string {
    const [name, ...stages] = args.positional
    const num = (k: string) => (args.named.has(k) ? Number(args.named.get(k)?.[0]) : undefined)
    const retry = { ...(num('attempts') !== undefined ? { attempts: num('attempts') } : {}), ...(num('backoff') !== undefined ? { backoffMs: num('backoff') } : {}), ...(num('max') !== undefined ? { maxBackoffMs: num('max') } : {}) }
    let def: Saga<unknown, any> = saga<unknown>(name!)
    if (num('undo-attempts') !== undefined) def = def.options({ compensation: { attempts: num('undo-attempts')!, backoffMs: 100, maxBackoffMs: 1_000 } })
    for (const stage of stages) {
      const specs = stage.split('+').map((s) => stepSpec(s, retry))
      def = specs.length === 1 ? def.step(specs[0]![0], specs[0]![1]) : def.parallel(Object.fromEntries(specs))
    }
    // A new saga: a log, calls and timers of its own.
    this.def = def
    this.machine = null
    this.log.length = 0
    this.started.clear()
    this.timers.clear()
    this.shownPhase = 'new'
    const plan = def.plan
    const lines = plan.stages.map((st, i) => `stage ${i + 1}: ${st.map((p) => `${p.name} (${p.kind}${p.hasUndo ? ', has undo' : ''}; ${policy(p.retry)})`).join(' | ')}`)
    return [...lines, `undos: ${policy(plan.compensation)}`].join('\n')
  }

  private start(): string {
    const machine = this.fresh()
    const started: SagaRecordBody = { type: 'SagaStarted', saga: this.def!.name, input: null, owner: 'n1' }
    machine.apply(started, false)
    return this.show([started], machine.next())
  }

  private settle(args: Args, outcome: CallOutcome): string {
    const [phase, step] = call(args.positional[0]!)
    const attempt = args.named.has('attempt') ? Number(args.named.get('attempt')?.[0]) : (this.started.get(`${phase}:${step}`) ?? 0)
    if (!this.running().settle(phase, step, attempt, outcome)) return `stale: ${phase}:${step} #${attempt} is not in flight; ignored`
    return this.show([], this.running().next())
  }

  private retryDue(target: string): string {
    const [phase, step] = call(target)
    if (!this.timers.delete(`${phase}:${step}`)) return `no timer for ${phase}:${step}`
    this.running().retryDue(phase, step)
    return this.show([], this.running().next())
  }

  private flaky(args: Args): string {
    const target = args.positional[0]!
    const times = Number(args.named.get('times')?.[0] ?? '1')
    const code = args.named.get('code')?.[0] ?? 'FAILED'
    let last: string[] = []
    for (let i = 0; i < times; i++) {
      const failed = this.settle({ positional: [target], named: new Map() }, failure(code, true))
      last = [failed, this.retryDue(target)]
    }
    return [`(${times} ${times === 1 ? 'round' : 'rounds'} of fail + retry-due; the last one:)`, ...last].join('\n')
  }

  private crash(): string {
    const inflight = this.running().inflight()
    this.machine = null
    this.timers.clear()
    return `crashed: ${this.log.length} records stay in the log${inflight.length ? `; lost in flight: ${inflight.join(', ')}` : ''}`
  }

  private recover(reason: 'recovery' | 'takeover' | 'retry'): string {
    const machine = this.fresh()
    for (const r of this.log) {
      const calls = machine.apply(r, false)
      if (calls.length > 0) throw new Error('replay started a call')
    }
    this.shownPhase = machine.phase
    const replayed = `replayed ${this.log.length} records: phase ${machine.phase}`
    const resumed: SagaRecordBody = { type: 'SagaResumed', owner: 'n2', reason }
    machine.apply(resumed, false)
    return [replayed, this.show([resumed], machine.next())].join('\n')
  }

  private fresh(): SagaMachine {
    if (!this.def) throw new Error('define a saga first')
    this.machine = new SagaMachine(this.def.plan, retryDelayMs)
    return this.machine
  }

  private running(): SagaMachine {
    if (!this.machine) throw new Error('no machine: start or recover first')
    return this.machine
  }

  /** Appends `first` and the batch's records as one append, then prints what the driver is told to do. */
  private show(first: SagaRecordBody[], batch: Batch): string {
    const records = [...first, ...batch.records]
    const out: string[] = []
    if (records.length > 0) {
      out.push(`append at ${this.log.length}:`, ...records.map((r) => `  ${formatRecord(r)}`))
      this.log.push(...records)
    }
    for (const c of batch.calls) {
      this.started.set(`${c.phase}:${c.step}`, c.attempt)
      out.push(`call ${c.phase}:${c.step} #${c.attempt}${c.attempt > recordedAttemptsMax ? ' (not recorded)' : ''}`)
    }
    for (const t of batch.timers) {
      this.timers.add(`${t.phase}:${t.step}`)
      out.push(`timer ${t.phase}:${t.step} ${t.delayMs} ms`)
    }
    const phase = this.running().phase
    if (phase !== this.shownPhase) out.push(`phase ${this.shownPhase} -> ${phase}`)
    this.shownPhase = phase
    return out.length > 0 ? out.join('\n') : 'nothing to do'
  }
}

function stepSpec(token: string, retry: { attempts?: number; backoffMs?: number; maxBackoffMs?: number }): [string, StepSpec<unknown, unknown, unknown>] {
  const [name, mark] = token.split(':')
  const noop = () => undefined
  if (mark === 'pivot') return [name!, { do: noop, kind: 'pivot', retry }]
  const { attempts: _, ...forever } = retry
  if (mark === 'retriable') return [name!, { do: noop, kind: 'retriable', retry: forever }]
  if (mark === 'noundo') return [name!, { do: noop, retry }]
  return [name!, { do: noop, undo: noop, retry }]
}

function call(target: string): [CallPhase, string] {
  const [phase, step] = target.split(':')
  if ((phase !== 'do' && phase !== 'undo') || !step) throw new Error(`expected do:STEP or undo:STEP, got ${target}`)
  return [phase, step]
}

function failure(code: string, retryable: boolean): CallOutcome {
  return { ok: false, error: { name: 'Error', message: code.toLowerCase(), code }, retryable }
}

function timedOut(target: string): CallOutcome {
  const e = new SagaError('STEP_TIMEOUT', `${target} did not settle in time`)
  return { ok: false, error: { name: e.name, message: e.message, code: e.code }, retryable: true }
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function policy(p: { attempts: number; backoffMs: number; maxBackoffMs: number }): string {
  return `${p.attempts === Infinity ? 'tries forever' : `${p.attempts} tries`}, ${p.backoffMs} ms doubling to ${p.maxBackoffMs} ms`
}

function code(e: ErrorInfo): string {
  return e.code ?? e.message
}

function formatRecord(r: SagaRecordBody): string {
  switch (r.type) {
    case 'SagaStarted':
      return `SagaStarted ${r.saga} owner=${r.owner}`
    case 'SagaResumed':
      return `SagaResumed owner=${r.owner} reason=${r.reason}`
    case 'StepScheduled':
    case 'CompensationScheduled':
    case 'CompensationSucceeded':
      return `${r.type} ${r.step} #${r.attempt}`
    case 'StepSucceeded':
      return `StepSucceeded ${r.step} #${r.attempt} result=${JSON.stringify(r.result)}`
    case 'StepFailed':
    case 'CompensationFailed':
      return `${r.type} ${r.step} #${r.attempt} ${code(r.error)}${r.final ? ' final' : ''}`
    case 'CompensationStarted':
      return `CompensationStarted cause=${r.cause.step}:${code(r.cause.error)} order=${r.order.join(',') || '(none)'}`
    case 'SagaCompleted':
      return 'SagaCompleted'
    case 'SagaCompensated':
      return `SagaCompensated cause=${r.cause.step}:${code(r.cause.error)}`
    case 'SagaStuck':
      return `SagaStuck ${r.step} ${code(r.error)} cause=${r.cause.step}:${code(r.cause.error)}`
    case 'TxDecided':
    case 'TxEnded':
      return r.type
  }
}
