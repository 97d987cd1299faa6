import { annotateWithSeed } from './seeds.js'
import type { SimWorld } from './sim-world.js'

/** What one seeded run of a scenario produced. */
export interface ScenarioResult {
  seed: number
  traceHash: string
  /** Events in the trace. */
  events: number
  virtualMs: number
  /** Scenario-specific counters (messages, faults, ...), for reports. */
  stats: Record<string, number>
}

/**
 * A named simulation that runs under any seed and throws when a checked
 * property is violated. `pnpm sim` runs every registered scenario over many
 * seeds; tests run a few.
 */
export interface Scenario {
  readonly name: string
  readonly description: string
  run(seed: number): Promise<ScenarioResult>
}

export interface SeedOutcome {
  scenario: string
  seed: number
  result?: ScenarioResult
  error?: unknown
  wallMs: number
}

/** An error with the tail of the world's trace, for the failure report. */
export type TracedError = Error & { simTrace?: string[] }

/**
 * Runs `body` against `world`; a failure gets the last trace lines attached
 * (`simTrace`), so the report shows what happened just before it.
 */
export async function traced<T>(world: SimWorld, body: () => Promise<T>): Promise<T> {
  try {
    return await body()
  } catch (err) {
    if (err instanceof Error) (err as TracedError).simTrace ??= world.recentTrace().slice(-30)
    throw err
  }
}

/**
 * Runs `scenario` for each seed, one after another; never throws for a failed
 * seed (the outcome carries the error, annotated with seed and replay command).
 */
export async function runSeeds(
  scenario: Scenario,
  seeds: readonly number[],
  options: { replay?: string; onOutcome?: (o: SeedOutcome) => void } = {},
): Promise<SeedOutcome[]> {
  const outcomes: SeedOutcome[] = []
  for (const seed of seeds) {
    const started = performance.now()
    const outcome: SeedOutcome = { scenario: scenario.name, seed, wallMs: 0 }
    try {
      outcome.result = await scenario.run(seed)
    } catch (err) {
      outcome.error = annotateWithSeed(err, seed, {
        replay: options.replay ?? `pnpm sim --scenario ${scenario.name}`,
        context: () => ((err as TracedError).simTrace ? ['last trace lines:', ...(err as TracedError).simTrace!.map((l) => `  ${l}`)] : []),
      })
    }
    outcome.wallMs = performance.now() - started
    outcomes.push(outcome)
    options.onOutcome?.(outcome)
  }
  return outcomes
}
