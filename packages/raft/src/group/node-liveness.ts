/**
 * Which peer nodes this node heard from lately. Any batch counts (raft
 * traffic or a ping), so pings flow only between nodes that have nothing
 * else to say: with every group quiesced, one small message per node pair
 * and interval, whatever the number of groups.
 */
export class NodeLiveness {
  private readonly heardAt = new Map<string, number>()
  private readonly sentAt = new Map<string, number>()

  heard(node: string, nowMs: number): void {
    this.heardAt.set(node, nowMs)
  }

  sent(node: string, nowMs: number): void {
    this.sentAt.set(node, nowMs)
  }

  /** True when nothing went to `node` for `intervalMs`. */
  needsPing(node: string, nowMs: number, intervalMs: number): boolean {
    return nowMs - (this.sentAt.get(node) ?? -Infinity) >= intervalMs
  }

  /** True when `node` was silent for longer than `timeoutMs` (or never heard from). */
  silent(node: string, nowMs: number, timeoutMs: number): boolean {
    return nowMs - (this.heardAt.get(node) ?? -Infinity) > timeoutMs
  }
}
