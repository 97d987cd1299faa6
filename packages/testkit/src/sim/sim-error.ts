/** Stable codes of the simulator's operating failures. */
export const SimErrorCode = {
  /** `waitFor` or `runUntil` hit its virtual-time limit first. */
  Timeout: 'SIM_TIMEOUT',
  /** Work kept going without virtual time moving (a zero-delay loop). */
  Livelock: 'SIM_LIVELOCK',
  /** Too many pending events: runaway timers or traffic. */
  EventQueueFull: 'EVENT_QUEUE_FULL',
  /** A node's boot function threw or rejected. */
  BootFailed: 'BOOT_FAILED',
  /** The operation does not fit the node's state (restart of a running node, ...). */
  BadState: 'BAD_STATE',
  /** `SIM_SEED` or a seed argument is not a safe integer. */
  BadSeed: 'BAD_SEED',
} as const

export type SimErrorCode = (typeof SimErrorCode)[keyof typeof SimErrorCode]

export class SimError extends Error {
  readonly code: SimErrorCode
  constructor(code: SimErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = 'SimError'
  }
}
