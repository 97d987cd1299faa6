// Shutdown in named phases, run in order, each with its own timeout (Akka's
// CoordinatedShutdown is the model). A phase runs its tasks concurrently;
// a phase that fails or times out is logged and the next one runs. Apps add
// tasks to a phase with `addTask`. `run` is idempotent.
import type { Clock } from '@troupe/runtime'
import type { NodeLog, ShutdownPhaseName } from './node-config.js'

export type ShutdownTask = () => Promise<void> | void

export interface PhaseReport {
  phase: ShutdownPhaseName
  /** Milliseconds the phase took (by the node's clock). */
  ms: number
  outcome: 'done' | 'timeout' | 'failed'
}

export class CoordinatedShutdown {
  private readonly tasks = new Map<ShutdownPhaseName, Array<{ name: string; task: ShutdownTask }>>()
  private running: Promise<PhaseReport[]> | null = null
  private reasonText: string | null = null

  constructor(
    private readonly phases: readonly ShutdownPhaseName[],
    private readonly timeouts: Readonly<Record<ShutdownPhaseName, number>>,
    private readonly clock: Clock,
    private readonly log: NodeLog,
  ) {}

  /** Adds a task to `phase`; tasks of one phase run concurrently. Ignored once shutdown has started. */
  addTask(phase: ShutdownPhaseName, name: string, task: ShutdownTask): void {
    if (!this.phases.includes(phase)) throw new RangeError(`unknown shutdown phase '${phase}'`)
    if (this.running) return
    const list = this.tasks.get(phase) ?? []
    list.push({ name, task })
    this.tasks.set(phase, list)
  }

  get started(): boolean {
    return this.running !== null
  }

  /** Why shutdown started (null before). */
  get reason(): string | null {
    return this.reasonText
  }

  /** Runs every phase once; later calls return the same promise. Never rejects. */
  run(reason: string): Promise<PhaseReport[]> {
    if (this.running === null) {
      this.reasonText = reason
      this.running = this.runPhases(reason)
    }
    return this.running
  }

  private async runPhases(reason: string): Promise<PhaseReport[]> {
    this.log('info', `shutdown started: ${reason}`)
    const reports: PhaseReport[] = []
    for (const phase of this.phases) {
      const list = this.tasks.get(phase) ?? []
      if (list.length === 0) continue
      const started = this.clock.now()
      const outcome = await this.runPhase(phase, list)
      const ms = Math.round(this.clock.now() - started)
      reports.push({ phase, ms, outcome })
      this.log(outcome === 'done' ? 'info' : 'warn', `shutdown phase ${phase}: ${outcome} in ${ms} ms`, { phase, ms, outcome })
    }
    this.log('info', 'shutdown finished')
    return reports
  }

  private runPhase(phase: ShutdownPhaseName, list: Array<{ name: string; task: ShutdownTask }>): Promise<PhaseReport['outcome']> {
    return new Promise((resolve) => {
      let settled = false
      const finish = (outcome: PhaseReport['outcome']): void => {
        if (settled) return
        settled = true
        this.clock.clearTimer(timer)
        resolve(outcome)
      }
      const timer = this.clock.setTimer(this.timeouts[phase], () => finish('timeout'))
      let failed = false
      void Promise.all(
        list.map(async ({ name, task }) => {
          try {
            await task()
          } catch (err) {
            failed = true
            this.log('warn', `shutdown task ${phase}/${name} failed: ${String((err as Error)?.message ?? err)}`)
          }
        }),
      ).then(() => finish(failed ? 'failed' : 'done'))
    })
  }
}
