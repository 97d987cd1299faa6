import { SagaError } from './errors.js'

export interface IdempotencyStoreOptions {
  /** Keys remembered; beyond this the oldest are forgotten (default 10,000). */
  maxKeys?: number
}

type Entry = { state: 'applied'; result: unknown } | { state: 'compensated' }

/** What a store's snapshot holds (CBOR-encodable if the results are). */
export type IdempotencySnapshot = [key: string, state: 'applied' | 'compensated', result: unknown][]

/**
 * Remembers which saga step keys a participant has applied, so a step that
 * is retried, re-dispatched after a coordinator crash, or delivered twice
 * takes effect once. Keep it inside the participant's state (an actor's
 * state, or a Raft state machine's snapshot) so a key and its effect are
 * kept or lost together.
 *
 * `dedupe(key, fn)` runs `fn` the first time and returns the remembered
 * result afterwards. `compensate(key, undo)` undoes an applied key once; for
 * a key never applied it records a tombstone instead, so a `do` that arrives
 * after its `undo` (a slow or reordered message) is refused with
 * STEP_REJECTED rather than applied after the saga was compensated.
 *
 * Bounded: beyond `maxKeys` the oldest keys are forgotten. Keep it larger
 * than the number of steps that can still be retried or delivered late
 * (roughly: sagas in flight × steps per saga on this participant).
 */
export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>()
  readonly maxKeys: number

  constructor(options: IdempotencyStoreOptions = {}) {
    this.maxKeys = options.maxKeys ?? 10_000
    if (!(Number.isSafeInteger(this.maxKeys) && this.maxKeys >= 1)) throw new RangeError('maxKeys must be an integer >= 1')
  }

  get size(): number {
    return this.entries.size
  }

  /** 'applied', 'compensated' (undone, or a tombstone), or undefined for an unknown (or forgotten) key. */
  state(key: string): 'applied' | 'compensated' | undefined {
    return this.entries.get(key)?.state
  }

  /**
   * Runs `fn` once per key and returns its result; a repeated key returns the
   * first result without running `fn`. A throw (or a rejected promise)
   * remembers nothing, so a retry runs `fn` again. A compensated key throws
   * STEP_REJECTED.
   */
  dedupe<T>(key: string, fn: () => T): T {
    const entry = this.entries.get(key)
    if (entry?.state === 'applied') return entry.result as T
    if (entry?.state === 'compensated') throw new SagaError('STEP_REJECTED', `step ${key} was already compensated; not applying it`)
    const result = fn()
    this.remember(key, { state: 'applied', result })
    if (result instanceof Promise) {
      result.catch(() => {
        const current = this.entries.get(key)
        if (current?.state === 'applied' && current.result === result) this.entries.delete(key)
      })
    }
    return result
  }

  /**
   * Undoes an applied key once: calls `undo` with what `dedupe` returned and
   * marks the key compensated (a throw leaves it applied, for a retry). For
   * a compensated key it does nothing; for an unknown key it leaves a
   * tombstone and does not call `undo`. Returns whether `undo` ran.
   */
  compensate(key: string, undo: (result: unknown) => void): boolean
  compensate(key: string, undo: (result: unknown) => Promise<void>): Promise<boolean>
  compensate(key: string, undo: (result: unknown) => void | Promise<void>): boolean | Promise<boolean> {
    const entry = this.entries.get(key)
    if (entry?.state === 'compensated') return false
    if (entry === undefined) {
      this.remember(key, { state: 'compensated' })
      return false
    }
    const done = undo(entry.result)
    if (done instanceof Promise) {
      return done.then(() => {
        if (this.entries.get(key) === entry) this.remember(key, { state: 'compensated' })
        return true
      })
    }
    this.remember(key, { state: 'compensated' })
    return true
  }

  snapshot(): IdempotencySnapshot {
    const out: IdempotencySnapshot = []
    for (const [key, e] of this.entries) out.push(e.state === 'applied' ? [key, 'applied', e.result] : [key, 'compensated', null])
    return out
  }

  restore(snapshot: IdempotencySnapshot): void {
    this.entries.clear()
    for (const [key, state, result] of snapshot) this.entries.set(key, state === 'applied' ? { state, result } : { state })
  }

  private remember(key: string, entry: Entry): void {
    this.entries.delete(key)
    this.entries.set(key, entry)
    while (this.entries.size > this.maxKeys) this.entries.delete(this.entries.keys().next().value as string)
  }
}
