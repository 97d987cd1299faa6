import type { HostReply } from './host-protocol.js'

/**
 * A group on a node that is not one of its members: requests are forwarded
 * to the leader it last heard of, or to the members in turn.
 */
export class GroupProxy {
  leaderHint: string | null = null
  private next = 0

  constructor(
    readonly id: string,
    readonly members: readonly string[],
  ) {}

  /** Where to send the next request. */
  target(): string {
    if (this.leaderHint !== null) return this.leaderHint
    return this.members[this.next++ % this.members.length]!
  }

  /** Learns from a reply where the leader is. */
  learn(reply: HostReply): void {
    if (reply.ok || reply.code !== 'NOT_LEADER') return
    this.leaderHint = reply.leader !== null && this.members.includes(reply.leader) ? reply.leader : null
  }
}
