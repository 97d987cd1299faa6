import type { Clock } from '@troupe/runtime'
import { isSagaError, SagaError } from '../errors.js'
import type { AppendRequest, SagaLog } from '../log/saga-log.js'
import { sameEncoding } from '../log/record-codec.js'
import type { ResolvedRetryPolicy } from '../retry-policy.js'
import { retryDelayMs } from '../retry-policy.js'

export interface AppendEnv {
  log: SagaLog
  clock: Clock
  /** Delays between tries while the log is unavailable. */
  retry: ResolvedRetryPolicy
  /** Checked before every try: stop retrying once the owner closed. */
  closed: () => boolean
}

/** Waits `ms` on `clock` (virtual time in the simulator). */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(ms, resolve))
}

/**
 * Appends durably, retrying while the log is unavailable (no leader, no
 * quorum). Resolves 'ok' once the records are in the log (also when an
 * earlier try that seemed lost had in fact applied), or 'conflict' when
 * another writer appended first. Rejects with LOG_FAILED, CLOSED or
 * INVALID_ARGUMENT.
 */
export async function appendDurably(env: AppendEnv, req: AppendRequest): Promise<'ok' | 'conflict'> {
  let unsure = false
  for (let tries = 1; tries <= env.retry.attempts; tries++) {
    if (env.closed()) throw new SagaError('CLOSED', `closed while appending to ${req.id}`)
    try {
      await env.log.append(req)
      return 'ok'
    } catch (err) {
      if (isSagaError(err, 'LOG_CONFLICT')) {
        if (unsure && (await appliedEarlier(env, req))) return 'ok'
        return 'conflict'
      }
      if (!isSagaError(err, 'LOG_UNAVAILABLE')) throw err
      unsure = true
    }
    await sleep(env.clock, retryDelayMs(env.retry, tries))
  }
  throw new SagaError('LOG_FAILED', `the log stayed unavailable for ${env.retry.attempts} tries appending to ${req.id}`)
}

/** True when the history holds exactly these records at `seq` (a retried append whose first try applied). */
async function appliedEarlier(env: AppendEnv, req: AppendRequest): Promise<boolean> {
  for (let tries = 1; tries <= env.retry.attempts; tries++) {
    if (env.closed()) throw new SagaError('CLOSED', `closed while appending to ${req.id}`)
    try {
      const history = await env.log.read(req.id)
      if (!history || history.length < req.seq + req.records.length) return false
      return sameEncoding(history.slice(req.seq, req.seq + req.records.length), req.records)
    } catch (err) {
      if (!isSagaError(err, 'LOG_UNAVAILABLE')) throw err
    }
    await sleep(env.clock, retryDelayMs(env.retry, tries))
  }
  throw new SagaError('LOG_FAILED', `the log stayed unavailable for ${env.retry.attempts} tries reading ${req.id}`)
}
