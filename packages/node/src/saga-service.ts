// The node's saga coordinator on a Raft saga log, and the recover loop:
// every `recoverEveryMs` it resumes this node's own unfinished sagas (after
// a restart) and those last driven by members that are not up (their
// coordinators died), as the inventory example did by hand.
import type { Clock, Cluster, TimerHandle } from '@troupe/runtime'
import { errorCode } from '@troupe/runtime'
import { RaftSagaLog, SagaCoordinator, SagaStateMachine } from '@troupe/saga'
import type { ActorSystem } from '@troupe/runtime'
import type { SagaServiceConfig } from './node-config.js'
import type { RaftService } from './raft-service.js'

/** Codes of a saga log without a quorum yet: the next round tries again, quietly. */
const QUIET = new Set(['LOG_UNAVAILABLE', 'LOG_CONFLICT', 'CLOSED'])

export class SagaService {
  private timer: TimerHandle | null = null
  private recovering = false
  private stopped = false

  private constructor(
    readonly coordinator: SagaCoordinator,
    readonly log: RaftSagaLog,

    private readonly members: string[],
    private readonly self: string,
    private readonly clock: Clock,
    private readonly everyMs: number,
    private readonly report: (line: string) => void,
  ) {}

  static async open(system: ActorSystem, raft: RaftService, config: SagaServiceConfig, members: string[], report: (line: string) => void): Promise<SagaService> {
    const id = config.logGroup ?? 'sagas'
    const voters = config.members ?? members
    const replica = voters.includes(system.name)
    const handle = await raft.group({ id, members: voters, ...(replica ? { stateMachine: () => new SagaStateMachine() } : {}) })
    const log = RaftSagaLog.over(handle as Parameters<typeof RaftSagaLog.over>[0])
    const coordinator = new SagaCoordinator({ system, log, definitions: config.definitions, report })
    return new SagaService(coordinator, log, voters, system.name, system.clock, config.recoverEveryMs ?? 2000, report)
  }

  /** Starts the recover loop (once the cluster is started: it reads who is up). */
  startRecovering(cluster: Cluster): void {
    if (this.everyMs === 0 || this.stopped) return
    const round = (): void => {
      this.timer = this.clock.setTimer(this.everyMs, () => {
        void this.recover(cluster).finally(() => {
          if (!this.stopped) round()
        })
      })
    }
    cluster.on('memberDown', () => void this.recover(cluster))
    void this.recover(cluster)
    round()
  }

  /** One recover round; returns the ids resumed here. */
  async recover(cluster: Cluster): Promise<string[]> {
    if (this.recovering || this.stopped) return []
    this.recovering = true
    try {
      const up = new Set(cluster.upMembers())
      const owners = [this.self, ...this.members.filter((m) => m !== this.self && !up.has(m))]
      const resumed = await this.coordinator.recover({ owners })
      if (resumed.length > 0) this.report(`resumed ${resumed.length} saga(s) of ${owners.join(',')}`)
      return resumed
    } catch (err) {
      if (!QUIET.has(errorCode(err) ?? '')) this.report(`saga recovery: ${String((err as Error)?.message ?? err)}`)
      return []
    } finally {
      this.recovering = false
    }
  }

  /**
   * Lets running sagas finish until `deadline` (by the clock), then stops
   * driving the rest: their histories stay in the log and another node's
   * recover loop resumes them once this node is not up. Returns how many
   * were parked.
   * TODO: use the coordinator's close({ timeoutMs }) once the saga package has it.
   */
  async finishOrPark(waitMs: number): Promise<number> {
    this.stopped = true
    if (this.timer !== null) this.clock.clearTimer(this.timer)
    const deadline = this.clock.now() + waitMs
    while (this.coordinator.activeIds().length > 0 && this.clock.now() < deadline) {
      await new Promise<void>((resolve) => this.clock.setTimer(Math.min(50, Math.max(1, deadline - this.clock.now())), resolve))
    }
    const parked = this.coordinator.activeIds().length
    await this.coordinator.close()
    return parked
  }

  async close(): Promise<void> {
    this.stopped = true
    if (this.timer !== null) this.clock.clearTimer(this.timer)
    await this.coordinator.close()
  }
}
