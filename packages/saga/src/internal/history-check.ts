import type { SagaPlan } from '../definition.js'
import type { SagaRecord } from '../records.js'

/** Why the history cannot be driven by this plan (a step the plan does not have), or null. */
export function historyProblem(plan: SagaPlan, history: readonly SagaRecord[]): string | null {
  for (const r of history) {
    if ('step' in r && typeof r.step === 'string' && !plan.steps.has(r.step)) return `the history names step '${r.step}'`
    if (r.type === 'CompensationStarted') for (const s of r.order) if (!plan.steps.get(s)?.hasUndo) return `the compensation order names '${s}', which has no undo`
  }
  return null
}
