/**
 * Checks what a simulation observed of sagas and two-phase transactions
 * against the saga guarantees:
 *
 * 1. An accepted saga ends completed, compensated or stuck (checked once the
 *    run is quiescent), and the outcome reported matches its history.
 * 2. Forward steps run at least once; with an idempotent participant each
 *    effect applies exactly once: a completed saga applied every step once
 *    and undid none; no key is applied twice.
 * 3. Only scheduled steps are compensated, in reverse order of completion
 *    (steps whose outcome was unknown first); nothing at or after a pivot is
 *    compensated; a saga reported compensated has no effect left applied.
 * 4. Two-phase commit: every participant of a transaction ends with the
 *    same decision, none stays prepared (once quiescent), and the reported
 *    outcome is that decision.
 *
 * plus conservation: quantities the workload must keep (money, stock) equal
 * what they were. The checker knows nothing about the saga package: it
 * takes plain observations (record types as strings).
 */

export type ObservedStepKind = 'compensatable' | 'pivot' | 'retriable'

export interface ObservedStep {
  name: string
  kind: ObservedStepKind
  /** Whether the step has an undo. */
  hasUndo: boolean
}

/** A record of a saga history, as far as the checker reads it. */
export interface ObservedRecord {
  type: string
  step?: string
  /** CompensationStarted: the steps it will undo, first to last. */
  order?: string[]
}

export type ObservedOutcome = 'completed' | 'compensated' | 'stuck' | 'running' | 'compensating'

export interface ObservedSaga {
  id: string
  /** The definition's steps, in definition order. */
  steps: ObservedStep[]
  /** The system acknowledged the saga (its start was durable). */
  accepted: boolean
  /** What the system reported at the end (status or the result of run/wait); null if it reported nothing. */
  outcome: ObservedOutcome | null
  /** The durable history, oldest first (null if none was found). */
  history: ObservedRecord[] | null
}

/** An effect a participant actually applied (a state change, not a deduplicated repeat), in the order applied. */
export interface ObservedEffect {
  sagaId: string
  step: string
  op: 'apply' | 'undo'
}

export interface ObservedTransaction {
  txId: string
  /** What the coordinator reported to its caller (null: no answer, e.g. the caller's node crashed). */
  outcome: 'committed' | 'aborted' | null
  participants: { name: string; state: 'committed' | 'aborted' | 'prepared' | 'none' }[]
}

export interface ConservedQuantity {
  name: string
  expected: number
  actual: number
}

export interface SagaAtomicityInput {
  sagas: ObservedSaga[]
  effects: ObservedEffect[]
  transactions?: ObservedTransaction[]
  conserved?: ConservedQuantity[]
  /** Every saga and transaction had time to finish (faults healed, enough time passed). */
  quiescent: boolean
}

export interface SagaViolation {
  guarantee: 1 | 2 | 3 | 4 | 'conservation'
  id: string
  message: string
}

const terminal = new Set(['SagaCompleted', 'SagaCompensated', 'SagaStuck'])
const outcomeOf: Record<string, ObservedOutcome> = { SagaCompleted: 'completed', SagaCompensated: 'compensated', SagaStuck: 'stuck' }

/** Every violation found; an empty list means the observations keep guarantees 1–4 and conservation. */
export function checkSagaAtomicity(input: SagaAtomicityInput): SagaViolation[] {
  const out: SagaViolation[] = []
  const effectsBySaga = new Map<string, ObservedEffect[]>()
  for (const e of input.effects) {
    const list = effectsBySaga.get(e.sagaId) ?? []
    list.push(e)
    effectsBySaga.set(e.sagaId, list)
  }
  const known = new Set(input.sagas.map((s) => s.id))
  for (const id of effectsBySaga.keys()) {
    if (!known.has(id)) out.push({ guarantee: 2, id, message: 'effects applied for a saga that was never observed' })
  }
  for (const saga of input.sagas) checkSaga(saga, effectsBySaga.get(saga.id) ?? [], input.quiescent, out)
  for (const tx of input.transactions ?? []) checkTransaction(tx, input.quiescent, out)
  for (const q of input.conserved ?? []) {
    if (q.expected !== q.actual) out.push({ guarantee: 'conservation', id: q.name, message: `${q.name} is ${q.actual}, expected ${q.expected}` })
  }
  return out
}

function checkSaga(saga: ObservedSaga, effects: ObservedEffect[], quiescent: boolean, out: SagaViolation[]): void {
  const v = (guarantee: SagaViolation['guarantee'], message: string) => out.push({ guarantee, id: saga.id, message })
  const history = saga.history ?? []
  const last = history[history.length - 1]
  const ended = last !== undefined && terminal.has(last.type) ? outcomeOf[last.type] : null

  // 1: termination, and the report matches the log.
  if (saga.accepted && history[0]?.type !== 'SagaStarted') v(1, 'accepted, but its history does not start with SagaStarted')
  if (quiescent && saga.accepted && ended === null) v(1, `accepted but not finished (last record ${last?.type ?? 'none'})`)
  const reportedEnd = saga.outcome === 'completed' || saga.outcome === 'compensated' || saga.outcome === 'stuck' ? saga.outcome : null
  if (reportedEnd !== null && reportedEnd !== ended) v(1, `reported ${reportedEnd} but its history ends ${ended ?? `with ${last?.type ?? 'nothing'}`}`)
  history.forEach((r, i) => {
    if (i < history.length - 1 && terminal.has(r.type) && !(r.type === 'SagaStuck' && history[i + 1]?.type === 'SagaResumed')) {
      v(1, `${r.type} at index ${i} is not the last record`)
    }
  })

  const steps = new Map(saga.steps.map((s) => [s.name, s]))
  const scheduled = new Set(history.filter((r) => r.type === 'StepScheduled').map((r) => r.step!))
  const succeeded = new Set(history.filter((r) => r.type === 'StepSucceeded').map((r) => r.step!))
  const applies = new Map<string, number>()
  const undos = new Map<string, number>()
  for (const e of effects) {
    const counts = e.op === 'apply' ? applies : undos
    counts.set(e.step, (counts.get(e.step) ?? 0) + 1)
  }

  // 2: at least once, exactly once with deduplication.
  for (const [step, n] of applies) {
    if (n > 1) v(2, `step ${step} applied ${n} times`)
    if (!scheduled.has(step)) v(2, `step ${step} applied but never scheduled`)
  }
  for (const step of succeeded) if (!applies.has(step)) v(2, `step ${step} recorded as succeeded but never applied`)
  if (ended === 'completed') {
    for (const s of saga.steps) {
      if (!succeeded.has(s.name)) v(2, `completed without step ${s.name} succeeding`)
      if ((applies.get(s.name) ?? 0) !== 1) v(2, `completed, but step ${s.name} applied ${applies.get(s.name) ?? 0} times`)
    }
  }

  // 3: compensation.
  const pivotIndex = saga.steps.findIndex((s) => s.kind === 'pivot')
  for (const [step, n] of undos) {
    const def = steps.get(step)
    if (n > 1) v(3, `step ${step} undone ${n} times`)
    if (!scheduled.has(step)) v(3, `step ${step} compensated but never scheduled`)
    if (!applies.has(step)) v(3, `step ${step} undone but never applied`)
    if (!def?.hasUndo || def.kind !== 'compensatable') v(3, `step ${step} (${def?.kind ?? 'unknown'}) has no undo but was compensated`)
    if (pivotIndex >= 0 && saga.steps.findIndex((s) => s.name === step) >= pivotIndex) v(3, `step ${step} is at or after the pivot but was compensated`)
  }
  if (ended === 'completed' && undos.size > 0) v(3, `completed, but ${[...undos.keys()].join(', ')} undone`)
  const started = history.find((r) => r.type === 'CompensationStarted')
  if (started) checkOrder(saga, history, started, effects, v)
  if (ended === 'compensated') {
    for (const [step] of applies) {
      if (steps.get(step)?.hasUndo && (undos.get(step) ?? 0) !== 1) v(3, `reported compensated, but step ${step} is still applied`)
    }
  }
  if (pivotIndex >= 0 && succeeded.has(saga.steps[pivotIndex].name) && started) v(3, 'compensation started after the pivot succeeded')
}

/** The recorded order is the reverse order of completion, and the participants saw undos in it. */
function checkOrder(saga: ObservedSaga, history: ObservedRecord[], started: ObservedRecord, effects: ObservedEffect[], v: (g: 3, m: string) => void): void {
  const steps = new Map(saga.steps.map((s) => [s.name, s]))
  const firstScheduled = new Map<string, number>()
  const completedAt = new Map<string, number>()
  const startIndex = history.indexOf(started)
  history.slice(0, startIndex).forEach((r, i) => {
    if (r.type === 'StepScheduled' && !firstScheduled.has(r.step!)) firstScheduled.set(r.step!, i)
    if (r.type === 'StepSucceeded') completedAt.set(r.step!, i)
  })
  const candidates = [...firstScheduled.keys()].filter((s) => steps.get(s)?.hasUndo)
  const unknown = candidates.filter((s) => !completedAt.has(s)).sort((a, b) => firstScheduled.get(b)! - firstScheduled.get(a)!)
  const done = candidates.filter((s) => completedAt.has(s)).sort((a, b) => completedAt.get(b)! - completedAt.get(a)!)
  const expected = [...unknown, ...done]
  const recorded = started.order ?? []
  if (expected.join(',') !== recorded.join(',')) v(3, `compensation order [${recorded}] is not the reverse order of completion [${expected}]`)
  const undone = effects.filter((e) => e.op === 'undo').map((e) => e.step)
  const positions = undone.map((s) => recorded.indexOf(s))
  for (let i = 1; i < positions.length; i++) {
    if (positions[i] < positions[i - 1]) v(3, `participants saw undos in order [${undone}], not following [${recorded}]`)
  }
}

function checkTransaction(tx: ObservedTransaction, quiescent: boolean, out: SagaViolation[]): void {
  const v = (message: string) => out.push({ guarantee: 4, id: tx.txId, message })
  const states = tx.participants.map((p) => p.state)
  const committed = tx.participants.filter((p) => p.state === 'committed').map((p) => p.name)
  const notCommitted = tx.participants.filter((p) => p.state === 'aborted' || (quiescent && p.state === 'none')).map((p) => p.name)
  if (committed.length > 0 && notCommitted.length > 0) v(`committed at ${committed.join(', ')} but not at ${notCommitted.join(', ')}`)
  if (quiescent) {
    const prepared = tx.participants.filter((p) => p.state === 'prepared').map((p) => p.name)
    if (prepared.length > 0) v(`still prepared at ${prepared.join(', ')}`)
  }
  if (tx.outcome === 'committed' && states.some((s) => s === 'aborted' || (quiescent && s !== 'committed'))) v(`reported committed, participants are ${states.join(', ')}`)
  if (tx.outcome === 'aborted' && committed.length > 0) v(`reported aborted, but committed at ${committed.join(', ')}`)
}
