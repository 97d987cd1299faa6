import { CodedError } from '@troupe/runtime/errors'

/** Stable codes of the simulator's operating failures. */
export const SimErrorCode = {
  /** `waitFor` or `runUntil` hit its virtual-time limit first. */
  SIM_TIMEOUT: 'SIM_TIMEOUT',
  /** Work kept going without virtual time moving (a zero-delay loop). */
  SIM_LIVELOCK: 'SIM_LIVELOCK',
  /** Too many pending events: runaway timers or traffic. */
  EVENT_QUEUE_FULL: 'EVENT_QUEUE_FULL',
  /** A node's boot function threw or rejected. */
  BOOT_FAILED: 'BOOT_FAILED',
  /** The operation does not fit the node's state (restart of a running node, ...). */
  BAD_STATE: 'BAD_STATE',
  /** `SIM_SEED` or a seed argument is not a safe integer. */
  BAD_SEED: 'BAD_SEED',
} as const

export type SimErrorCode = (typeof SimErrorCode)[keyof typeof SimErrorCode]

export class SimError extends CodedError<SimErrorCode> {
  override readonly name: string = 'SimError'
  constructor(code: SimErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}
