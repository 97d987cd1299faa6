import type { WireMembership } from './membership-wire.js'

/**
 * A node asks a member to let it in. The info fields (MemberInfo) are sent
 * only when they differ from the defaults.
 */
export interface JoinRequest {
  node: string
  address: string
  incarnation: number
  appVersion?: string
  roles?: string[]
  metadata?: Record<string, string>
  wireMin?: number
  wireMax?: number
}

/** A member's answer to a join: its whole state, which now lists the joiner. */
export interface Welcome {
  from: string
  gossip: WireMembership
}

/** Cheap gossip: the content digest and who has seen it; full state is sent only on a mismatch. */
export interface GossipStatus {
  from: string
  digest: number
  seen: string[]
}

/** Full state, sent when the receiver's digest differs. */
export interface GossipState {
  from: string
  gossip: WireMembership
}

/** A message from one cluster daemon to another. */
export type DaemonMessage =
  | { type: 'join'; payload: JoinRequest }
  | { type: 'welcome'; payload: Welcome }
  | { type: 'status'; payload: GossipStatus }
  | { type: 'gossip'; payload: GossipState }

/** The daemon's protocol as remote senders see it (`/system/cluster`). */
export interface DaemonProtocol {
  join(p: JoinRequest): void
  welcome(p: Welcome): void
  status(p: GossipStatus): void
  gossip(p: GossipState): void
}

/** Heartbeats (`/system/cluster-heartbeat`): request from a monitor, response from the monitored node. */
export interface HeartbeatProtocol {
  heartbeat(p: { from: string }): void
  heartbeatAck(p: { from: string; incarnation: number }): void
}

/** Where the daemon and heartbeat actors live on every node. */
export const DAEMON_PATH = '/system/cluster'
export const HEARTBEAT_PATH = '/system/cluster-heartbeat'
