import { EventEmitter } from 'eventemitter3'

/**
 * The read-only slice of cluster membership that placement (sharded
 * entities, singletons) needs.
 *
 * - `upMembers()` lists the names of members whose status is `up`, sorted,
 *   including `self` when this node is up. Unreachable members stay in the
 *   list until they are downed (placement must not move on suspicion alone);
 *   `leaving` members are not listed, so their entities hand off.
 * - Once this node is downed (`selfDown`) or removed, `upMembers()` is empty
 *   for good: a downed node owns nothing.
 * - `'changed'` fires after every change of `upMembers()` (never when the
 *   list stayed the same).
 */
export interface MembershipView {
  readonly self: string
  upMembers(): string[]
  /**
   * The incarnation of member `node` as this view knows it (optional). With
   * it, sharding tells a restarted node from its previous incarnation when
   * it judges whether a peer's status is current.
   */
  incarnationOf?(node: string): number | undefined
  /**
   * Whether member `node` is leaving gracefully (`leaving` or `exiting`) as
   * this view knows it (optional: without it a member that drops out of
   * `upMembers()` counts as removed, not leaving). Sharding waits for a leaver
   * to hand off shards it may not have told this node about.
   */
  isLeaving?(node: string): boolean
  /**
   * Whether this node's failure detector reaches up member `node` now
   * (optional: without it every up member counts as reachable). Pub/sub does
   * not wait for the acknowledgement of a member it cannot reach.
   */
  isReachable?(node: string): boolean
  /**
   * The app version member `node` runs as this view knows it (optional;
   * Cluster implements it). Placement of new shards prefers the members of
   * the newest (`Allocation.forNewShards`).
   */
  appVersionOf?(node: string): string | undefined
  on(event: 'changed', fn: () => void): unknown
  off(event: 'changed', fn: () => void): unknown
}

/** A view that changes only when told: for tests of placement code. */
export class FixedMembershipView implements MembershipView {
  private readonly emitter = new EventEmitter<{ changed: [] }>()
  private members: string[]
  private readonly unreachable = new Set<string>()
  private readonly appVersions = new Map<string, string>()

  constructor(
    readonly self: string,
    members: readonly string[],
  ) {
    this.members = [...members].sort()
  }

  upMembers(): string[] {
    return [...this.members]
  }

  isReachable(node: string): boolean {
    return !this.unreachable.has(node)
  }

  appVersionOf(node: string): string | undefined {
    return this.appVersions.get(node)
  }

  /** Sets the app version `node` runs (no event: fixed per incarnation in a real cluster). */
  setAppVersion(node: string, appVersion: string): void {
    this.appVersions.set(node, appVersion)
  }

  /** Marks `node` reachable or not (no event: readers ask when they need to). */
  setReachable(node: string, reachable: boolean): void {
    if (reachable) this.unreachable.delete(node)
    else this.unreachable.add(node)
  }

  /** Replaces the member list and emits 'changed' when it differs. */
  set(members: readonly string[]): void {
    const next = [...members].sort()
    if (next.length === this.members.length && next.every((m, i) => m === this.members[i])) return
    this.members = next
    this.emitter.emit('changed')
  }

  on(event: 'changed', fn: () => void): this {
    this.emitter.on(event, fn)
    return this
  }

  off(event: 'changed', fn: () => void): this {
    this.emitter.off(event, fn)
    return this
  }
}
