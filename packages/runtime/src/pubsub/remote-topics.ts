/**
 * Which other nodes have subscribers for which topics, as each of them
 * reported it: a versioned set per node (deltas apply in order; a gap or a
 * new epoch asks for a full sync) and the inverse index used by publish.
 */
export class RemoteTopics {
  private readonly nodes = new Map<string, { epoch: number; version: number; topics: Set<string> }>()
  private readonly byTopic = new Map<string, Set<string>>()

  /** -1 when unknown or mid-sync. */
  versionOf(node: string, epoch: number): number {
    const n = this.nodes.get(node)
    return n === undefined || n.epoch !== epoch ? -1 : n.version
  }

  /** Applies a delta if it is the next version; returns false when a sync is needed instead. */
  applyDelta(node: string, epoch: number, version: number, added: string[], removed: string[]): 'applied' | 'duplicate' | 'gap' {
    const n = this.nodes.get(node)
    if (n === undefined || n.epoch !== epoch || n.version < 0 || version > n.version + 1) return 'gap'
    if (version <= n.version) return 'duplicate'
    for (const t of added) this.add(node, n.topics, t)
    for (const t of removed) this.remove(node, n.topics, t)
    n.version = version
    return 'applied'
  }

  /** One part of a full sync; the node's version is set by the last part. */
  applySync(node: string, epoch: number, version: number, topics: string[], reset: boolean, done: boolean): boolean {
    let n = this.nodes.get(node)
    if (reset) {
      if (n !== undefined) for (const t of n.topics) this.remove(node, n.topics, t)
      n = { epoch, version: -1, topics: new Set() }
      this.nodes.set(node, n)
    } else if (n === undefined || n.epoch !== epoch || n.version >= 0) {
      return false
    }
    for (const t of topics) this.add(node, n.topics, t)
    if (done) n.version = version
    return true
  }

  drop(node: string): void {
    const n = this.nodes.get(node)
    if (n === undefined) return
    for (const t of n.topics) this.remove(node, n.topics, t)
    this.nodes.delete(node)
  }

  nodesFor(topic: string): Iterable<string> {
    return this.byTopic.get(topic) ?? []
  }

  get topicCount(): number {
    return this.byTopic.size
  }

  private add(node: string, topics: Set<string>, topic: string): void {
    topics.add(topic)
    let nodes = this.byTopic.get(topic)
    if (nodes === undefined) this.byTopic.set(topic, (nodes = new Set()))
    nodes.add(node)
  }

  private remove(node: string, topics: Set<string>, topic: string): void {
    topics.delete(topic)
    const nodes = this.byTopic.get(topic)
    if (nodes === undefined) return
    nodes.delete(node)
    if (nodes.size === 0) this.byTopic.delete(topic)
  }
}
