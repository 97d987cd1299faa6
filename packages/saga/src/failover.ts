import type { Clock, MembershipView, TimerHandle } from '@troupe/runtime'
import type { SagaCoordinator } from './coordinator.js'

export interface FailoverOptions {
  /** Who is up (the cluster, or any MembershipView). */
  view: MembershipView
  /** Every node that may own sagas in this log (the saga group's members and clients). */
  owners: readonly string[]
  clock: Clock
  /** Also retried on this period, for logs that had no quorum at the last change (default 2000). */
  everyMs?: number
  /** Called with errors of a recovery round (the next round retries). */
  onError?: (error: unknown) => void
}

/**
 * Keeps a coordinator resuming sagas: its own after a restart, and those of
 * owners the view no longer counts as up (their coordinators died). Several
 * survivors may try the same saga; the log's compare-and-append lets exactly
 * one of them drive it.
 */
export function recoverOnFailover(coordinator: SagaCoordinator, options: FailoverOptions): { stop(): void } {
  const everyMs = options.everyMs ?? 2000
  const self = options.view.self
  let running = false
  let stopped = false
  let timer: TimerHandle | null = null

  const round = async (): Promise<void> => {
    if (running || stopped) return
    running = true
    try {
      const up = new Set(options.view.upMembers())
      const owners = [self, ...options.owners.filter((o) => o !== self && !up.has(o))]
      await coordinator.recover({ owners })
    } catch (err) {
      options.onError?.(err)
    } finally {
      running = false
    }
  }
  const tick = (): void => {
    if (stopped) return
    void round()
    timer = options.clock.setTimer(everyMs, tick)
  }
  const onChange = (): void => void round()
  options.view.on('changed', onChange)
  tick()
  return {
    stop() {
      stopped = true
      options.view.off('changed', onChange)
      if (timer !== null) options.clock.clearTimer(timer)
    },
  }
}
