import { defineActor } from '../define.js'
import type { GossipState, GossipStatus, JoinRequest, Welcome } from './messages.js'
import type { DaemonMessage } from './messages.js'

/** What the daemon actor forwards to its cluster (same process). */
export interface DaemonHost {
  receive(msg: DaemonMessage): void
  tick(): void
  stopped(): void
  readonly gossipIntervalMs: number
}

/**
 * `/system/cluster`: receives other daemons' messages and ticks the cluster
 * every gossip interval. All logic lives in the cluster's core; a failing
 * event listener resumes the actor instead of restarting it.
 */
export function daemonActor(host: DaemonHost) {
  return defineActor({
    name: 'cluster-daemon',
    initial: () => null,
    supervision: { onFailure: 'resume' },
    mailbox: { capacity: 10_000, overflow: 'drop' },
    onStart: (_s, ctx) => ctx.timers.startPeriodic('tick', host.gossipIntervalMs, 'tick', undefined),
    onStop: () => host.stopped(),
    handlers: {
      join: (_s, p: JoinRequest) => host.receive({ type: 'join', payload: p }),
      welcome: (_s, p: Welcome) => host.receive({ type: 'welcome', payload: p }),
      status: (_s, p: GossipStatus) => host.receive({ type: 'status', payload: p }),
      gossip: (_s, p: GossipState) => host.receive({ type: 'gossip', payload: p }),
      tick: () => host.tick(),
    },
  })
}

/** Shared between the cluster and its heartbeat actor. */
export interface HeartbeatHost {
  readonly self: string
  readonly incarnation: number
  readonly heartbeatIntervalMs: number
  /** Nodes to heartbeat now, with the incarnation an answer must come from. */
  targets(): ReadonlyMap<string, number>
  send(node: string, type: 'heartbeat' | 'heartbeatAck', payload: object): void
  /** An answer from a monitored node. */
  answered(node: string): void
  readonly counters: { heartbeatsSent: number; acksSent: number }
}

/**
 * `/system/cluster-heartbeat`: every interval asks each monitored node for a
 * heartbeat and feeds the answers to the failure detectors. A dedicated actor
 * on its own timer, so heartbeats never queue behind gossip or joins.
 */
export function heartbeatActor(host: HeartbeatHost) {
  return defineActor({
    name: 'cluster-heartbeat',
    initial: () => null,
    supervision: { onFailure: 'resume' },
    mailbox: { capacity: 10_000, overflow: 'drop' },
    onStart: (_s, ctx) => ctx.timers.startPeriodic('tick', host.heartbeatIntervalMs, 'tick', undefined),
    handlers: {
      heartbeat(_s, p: { from: string }) {
        if (typeof p?.from !== 'string') return
        host.counters.acksSent++
        host.send(p.from, 'heartbeatAck', { from: host.self, incarnation: host.incarnation })
      },
      heartbeatAck(_s, p: { from: string; incarnation: number }) {
        if (typeof p?.from !== 'string' || host.targets().get(p.from) !== p.incarnation) return
        host.answered(p.from)
      },
      tick() {
        for (const node of host.targets().keys()) {
          host.counters.heartbeatsSent++
          host.send(node, 'heartbeat', { from: host.self })
        }
      },
    },
  })
}
