// Records what clients asked for and what they were told, for the checkers.
// The model is Jepsen's: every operation is invoked, then completes as ok
// (happened, output observed), fail (definitely did not happen) or info
// (unknown: e.g. a timeout; it may or may not have taken effect, now or later).

export type ClientId = number | string

/**
 * A completed operation as the linearizability checker takes it (Porcupine's
 * shape). Info operations have `return === Infinity` and no output: they may
 * take effect at any point after `call`, or never.
 */
export interface Operation<Input, Output> {
  clientId: ClientId
  input: Input
  output: Output | undefined
  call: number
  return: number
  outcome: 'ok' | 'info'
}

export type HistoryEvent<Input, Output> =
  | { type: 'invoke'; opId: number; clientId: ClientId; time: number; input: Input }
  | { type: 'ok'; opId: number; clientId: ClientId; time: number; output: Output }
  | { type: 'fail'; opId: number; clientId: ClientId; time: number; error: unknown }
  | { type: 'info'; opId: number; clientId: ClientId; time: number }

/** Thrown when the recorder is used wrongly: a bug in the test harness. */
export class HistoryMisuseError extends Error {
  override readonly name = 'HistoryMisuseError'
}

interface OpRecord<Input, Output> {
  clientId: ClientId
  input: Input
  call: number
  state: 'pending' | 'ok' | 'fail' | 'info'
  output: Output | undefined
  return: number
}

export interface HistoryRecorderOptions {
  /** Upper bound on invocations; exceeding it throws (default 1,000,000). */
  maxOperations?: number
}

export class HistoryRecorder<Input, Output> {
  private readonly now: () => number
  private readonly maxOperations: number
  private readonly ops: OpRecord<Input, Output>[] = []
  private readonly log: HistoryEvent<Input, Output>[] = []
  private lastTime = -Infinity

  /** `now` supplies timestamps (virtual time in simulation); must not go backwards. */
  constructor(now: () => number, options: HistoryRecorderOptions = {}) {
    this.now = now
    this.maxOperations = options.maxOperations ?? 1_000_000
  }

  /** Records that `clientId` asked for `input`; returns the id to complete it with. */
  invoke(clientId: ClientId, input: Input): number {
    if (this.ops.length >= this.maxOperations) {
      throw new HistoryMisuseError(`history holds its maximum of ${this.maxOperations} operations`)
    }
    const time = this.timestamp()
    const opId = this.ops.length
    this.ops.push({ clientId, input, call: time, state: 'pending', output: undefined, return: Infinity })
    this.log.push({ type: 'invoke', opId, clientId, time, input })
    return opId
  }

  /** The operation took effect and returned `output`. */
  ok(opId: number, output: Output): void {
    const op = this.complete(opId, 'ok')
    op.output = output
    this.log.push({ type: 'ok', opId, clientId: op.clientId, time: op.return, output })
  }

  /** The operation definitely did not take effect. */
  fail(opId: number, error?: unknown): void {
    const op = this.complete(opId, 'fail')
    this.log.push({ type: 'fail', opId, clientId: op.clientId, time: op.return, error })
  }

  /** The outcome is unknown: it may have taken effect, or may still. */
  info(opId: number): void {
    const op = this.complete(opId, 'info')
    this.log.push({ type: 'info', opId, clientId: op.clientId, time: op.return })
  }

  /** Number of invoked operations that have not completed yet. */
  pendingCount(): number {
    let count = 0
    for (const op of this.ops) if (op.state === 'pending') count++
    return count
  }

  /**
   * Operations for the checker, in invocation order. Failed ones are dropped
   * (they did not happen); info and still-pending ones become info operations
   * with `return = Infinity` and no output.
   */
  operations(): Operation<Input, Output>[] {
    const out: Operation<Input, Output>[] = []
    for (const op of this.ops) {
      if (op.state === 'fail') continue
      if (op.state === 'ok') {
        out.push({ clientId: op.clientId, input: op.input, output: op.output, call: op.call, return: op.return, outcome: 'ok' })
      } else {
        out.push({ clientId: op.clientId, input: op.input, output: undefined, call: op.call, return: Infinity, outcome: 'info' })
      }
    }
    return out
  }

  /** Every event in the order it was recorded (a copy). */
  events(): HistoryEvent<Input, Output>[] {
    return this.log.slice()
  }

  private complete(opId: number, state: 'ok' | 'fail' | 'info'): OpRecord<Input, Output> {
    const op = Number.isInteger(opId) ? this.ops[opId] : undefined
    if (op === undefined) throw new HistoryMisuseError(`unknown operation id ${opId}`)
    if (op.state !== 'pending') {
      throw new HistoryMisuseError(`operation ${opId} already completed as ${op.state}, cannot complete it as ${state}`)
    }
    op.state = state
    op.return = this.timestamp()
    return op
  }

  private timestamp(): number {
    const time = this.now()
    if (!Number.isFinite(time)) throw new HistoryMisuseError(`clock returned ${time}`)
    if (time < this.lastTime) throw new HistoryMisuseError(`clock went backwards: ${time} after ${this.lastTime}`)
    this.lastTime = time
    return time
  }
}
