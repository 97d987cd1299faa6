import type { Cluster, MembershipView } from '@troupe/runtime'

/**
 * The membership view services start on before the cluster exists. It
 * reports no up members until `attach(cluster)`, then forwards to the
 * cluster. This is what lets sharding and pub/sub register their actors
 * before this node joins: by the time a peer sees this node up, its region
 * and mediator are there to take messages.
 */
export class PendingMembership implements MembershipView {
  private readonly listeners = new Set<() => void>()
  private cluster: Cluster | null = null
  private readonly forward = (): void => {
    for (const fn of [...this.listeners]) fn()
  }

  constructor(readonly self: string) {}

  attach(cluster: Cluster): void {
    this.cluster = cluster
    cluster.on('changed', this.forward)
    if (cluster.upMembers().length > 0) this.forward()
  }

  detach(): void {
    this.cluster?.off('changed', this.forward)
  }

  upMembers(): string[] {
    return this.cluster?.upMembers() ?? []
  }

  incarnationOf(node: string): number | undefined {
    return this.cluster?.incarnationOf(node)
  }

  isLeaving(node: string): boolean {
    return this.cluster?.isLeaving(node) ?? false
  }

  isReachable(node: string): boolean {
    return this.cluster?.isReachable(node) ?? false
  }

  on(event: 'changed', fn: () => void): this {
    if (event === 'changed') this.listeners.add(fn)
    return this
  }

  off(event: 'changed', fn: () => void): this {
    if (event === 'changed') this.listeners.delete(fn)
    return this
  }
}
