import { SimError } from './sim-error.js'

/** The seed in the SIM_SEED environment variable, or undefined when unset. */
export function envSeed(): number | undefined {
  const raw = process.env.SIM_SEED
  if (raw === undefined || raw.trim() === '') return undefined
  return parseSeed(raw, 'SIM_SEED')
}

export function parseSeed(raw: string, what = 'seed'): number {
  const seed = Number(raw)
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(seed)) throw new SimError('BAD_SEED', `${what} must be a safe integer, got '${raw}'`)
  return seed
}

/**
 * The seeds a test runs: just SIM_SEED when it is set (to replay a failure),
 * otherwise `count` seeds from `first`. Keeps `pnpm test` bounded.
 */
export function simSeeds(count: number, first = 1): number[] {
  const replay = envSeed()
  if (replay !== undefined) return [replay]
  return Array.from({ length: count }, (_, i) => first + i)
}

/** The one-line command that replays `seed` (default: the testkit tests). */
export function replayCommand(seed: number, command = 'pnpm test testkit'): string {
  return `SIM_SEED=${seed} ${command}`
}

export interface SeededOptions {
  /** What to run to replay, after `SIM_SEED=<n>` (default 'pnpm test testkit'). */
  replay?: string
  /** Extra lines for the report, e.g. a trace tail (read when the run fails). */
  context?: () => string[]
}

/**
 * Runs `fn(seed)`; if it throws, the error's message gains the seed and the
 * replay command (the error itself is rethrown, so assertion diffs survive).
 */
export async function withSeed<T>(seed: number, fn: (seed: number) => Promise<T> | T, options: SeededOptions = {}): Promise<T> {
  try {
    return await fn(seed)
  } catch (err) {
    throw annotateWithSeed(err, seed, options)
  }
}

/** Appends the seed, the replay command and any context lines to an error's message. */
export function annotateWithSeed(err: unknown, seed: number, options: SeededOptions = {}): unknown {
  const lines = [`seed ${seed}; replay: ${replayCommand(seed, options.replay)}`]
  try {
    lines.push(...(options.context?.() ?? []))
  } catch {
    // The report must not hide the original failure.
  }
  const suffix = `\n${lines.join('\n')}`
  if (err instanceof Error) {
    if (!err.message.includes(`SIM_SEED=${seed}`)) {
      err.message += suffix
      if (err.stack) err.stack = `${err.name}: ${err.message}\n${err.stack.split('\n').filter((l) => l.startsWith('    at ')).join('\n')}`
    }
    return err
  }
  return new Error(`${String(err)}${suffix}`)
}
