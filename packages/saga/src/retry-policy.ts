import { backoffDelayMs, InvariantError } from '@troupe/runtime'
import type { BackoffPolicy } from '@troupe/runtime'
import { SagaError } from './errors.js'

/** How often and how patiently a step (or an undo) is tried again after a failure. */
export interface RetryPolicy {
  /** Tries in all, the first one included (an integer >= 1, or Infinity). */
  attempts?: number
  /** Delay before the first retry; doubled for each further one (ms). */
  backoffMs?: number
  /** The doubling stops here (ms). */
  maxBackoffMs?: number
}

export interface ResolvedRetryPolicy {
  attempts: number
  backoffMs: number
  maxBackoffMs: number
}

/** Forward steps: three tries, 100 ms then 200 ms apart. */
export const defaultStepRetry: ResolvedRetryPolicy = { attempts: 3, backoffMs: 100, maxBackoffMs: 5_000 }
/** Retriable steps (and pivots on ambiguous failures): forever, at most 10 s apart. */
export const foreverRetry: ResolvedRetryPolicy = { attempts: Infinity, backoffMs: 100, maxBackoffMs: 10_000 }
/** Compensations: ten tries over about a minute before the saga is declared stuck. */
export const defaultCompensationRetry: ResolvedRetryPolicy = { attempts: 10, backoffMs: 100, maxBackoffMs: 10_000 }
/** A step or undo call that has not settled after this long counts as failed (STEP_TIMEOUT). */
export const defaultStepTimeoutMs = 10_000

export function resolveRetry(policy: RetryPolicy | undefined, defaults: ResolvedRetryPolicy, what: string): ResolvedRetryPolicy {
  const r = { ...defaults, ...policy }
  if (!(r.attempts === Infinity || (Number.isSafeInteger(r.attempts) && r.attempts >= 1))) {
    throw new SagaError('INVALID_DEFINITION', `${what}: retry.attempts must be an integer >= 1 or Infinity, got ${r.attempts}`)
  }
  if (!(Number.isFinite(r.backoffMs) && r.backoffMs >= 0)) throw new SagaError('INVALID_DEFINITION', `${what}: retry.backoffMs must be a finite number >= 0`)
  if (!(Number.isFinite(r.maxBackoffMs) && r.maxBackoffMs >= r.backoffMs)) {
    throw new SagaError('INVALID_DEFINITION', `${what}: retry.maxBackoffMs must be finite and >= backoffMs`)
  }
  return r
}

export function checkTimeout(timeoutMs: number | undefined, fallback: number, what: string): number {
  const t = timeoutMs ?? fallback
  if (!(Number.isFinite(t) && t > 0)) throw new SagaError('INVALID_DEFINITION', `${what}: timeoutMs must be a positive finite number, got ${t}`)
  return t
}

/** The shared backoff policy a resolved retry policy stands for (no jitter: the delays are exact). */
function backoffOf(policy: ResolvedRetryPolicy): BackoffPolicy {
  return { minMs: policy.backoffMs, maxMs: policy.maxBackoffMs, maxExponent: 30, jitter: 'none' }
}

/** Without jitter the backoff takes no random number. */
function noRandom(): number {
  throw new InvariantError('a backoff without jitter drew a random number')
}

/** Delay before the try that follows the `failures`-th failure: `backoffMs` doubled per failure after the first, capped. */
export function retryDelayMs(policy: ResolvedRetryPolicy, failures: number): number {
  return backoffDelayMs(backoffOf(policy), Math.max(failures - 1, 0), noRandom)
}

/** Equal jitter over a chosen delay: uniform between half and all of it (one random number), so retries of many sagas spread out. */
export function spreadDelayMs(delayMs: number, random: () => number): number {
  return backoffDelayMs({ minMs: delayMs, maxMs: delayMs, jitter: 'equal' }, 0, random)
}

/** How a machine learns its retry delays (`retryDelayMs`; the machine itself loads no runtime). */
export type RetryDelay = (policy: ResolvedRetryPolicy, failures: number) => number
