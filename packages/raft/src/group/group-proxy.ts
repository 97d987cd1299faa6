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

  /** Learns from the reply of `target` where the leader is; forgets a hint that stopped answering. */
  learn(target: string, reply: HostReply): void {
    const known = (n: string | null | undefined): n is string => typeof n === 'string' && this.members.includes(n)
    if (reply.ok) {
      if (known(reply.leader)) this.leaderHint = reply.leader
      return
    }
    if (reply.code !== 'NOT_LEADER' && reply.code !== 'TIMEOUT' && reply.code !== 'GROUP_STOPPED') return
    this.leaderHint = known(reply.leader) && reply.leader !== target ? reply.leader : null
  }
}
