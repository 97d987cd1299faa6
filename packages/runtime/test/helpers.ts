import { ActorSystem, ManualClock } from '@troupe/runtime'
import type { SystemOptions } from '@troupe/runtime'

/** Lets every queued microtask and macrotask run (the dispatcher yields with setImmediate). */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r))
}

/** A system on a manual clock: time moves only through `clock.advance`. */
export function manualSystem(options: SystemOptions = {}): { system: ActorSystem; clock: ManualClock } {
  const clock = new ManualClock(1_000_000)
  let seed = 42
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) % 1000) / 1000
  return { system: new ActorSystem({ clock, random, ...options }), clock }
}

/** Advances the clock in steps, letting actors run between steps. */
export async function advance(clock: ManualClock, ms: number, stepMs = 10): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    clock.advance(Math.min(stepMs, ms - t))
    await settle(2)
  }
}

export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<Error & { code: string; cause?: unknown }> {
  try {
    await promise
  } catch (err) {
    const e = err as Error & { code: string }
    if (e.code !== code) throw new Error(`expected rejection with ${code}, got ${e.code}: ${e.message}`)
    return e
  }
  throw new Error(`expected rejection with ${code}, but it resolved`)
}
