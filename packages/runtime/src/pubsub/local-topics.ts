import type { ActorRef } from '../actor-ref.js'

/** A ref's identity across ref objects (a decoded remote ref is a new object each time). */
export function refKey(ref: ActorRef<any>): string {
  return `${ref.node}\u0000${ref.path}\u0000${ref.uid}`
}

/** This node's subscriptions: topic → subscribers, and each subscriber's topics (to clean up when it stops). */
export class LocalTopics {
  private readonly byTopic = new Map<string, Map<string, ActorRef<any>>>()
  private readonly byRef = new Map<string, Set<string>>()

  /** Returns whether the topic is new on this node and whether the ref is a new subscriber at all. */
  add(topic: string, ref: ActorRef<any>): { newTopic: boolean; newRef: boolean } {
    const key = refKey(ref)
    let subs = this.byTopic.get(topic)
    const newTopic = subs === undefined
    if (subs === undefined) this.byTopic.set(topic, (subs = new Map()))
    subs.set(key, ref)
    let topics = this.byRef.get(key)
    const newRef = topics === undefined
    if (topics === undefined) this.byRef.set(key, (topics = new Set()))
    topics.add(topic)
    return { newTopic, newRef }
  }

  /** Returns whether the topic is now gone from this node and whether the ref has no topics left. */
  remove(topic: string, ref: ActorRef<any>): { topicGone: boolean; refGone: boolean } {
    const key = refKey(ref)
    const subs = this.byTopic.get(topic)
    const topics = this.byRef.get(key)
    if (subs === undefined || !subs.delete(key)) return { topicGone: false, refGone: false }
    topics?.delete(topic)
    const topicGone = subs.size === 0
    if (topicGone) this.byTopic.delete(topic)
    const refGone = topics === undefined || topics.size === 0
    if (refGone) this.byRef.delete(key)
    return { topicGone, refGone }
  }

  /** Removes a subscriber from every topic; returns the topics that are now gone. */
  removeRef(ref: ActorRef<any>): string[] {
    const topics = this.byRef.get(refKey(ref))
    if (topics === undefined) return []
    const gone: string[] = []
    for (const topic of [...topics]) if (this.remove(topic, ref).topicGone) gone.push(topic)
    return gone
  }

  subscribers(topic: string): Iterable<ActorRef<any>> {
    return this.byTopic.get(topic)?.values() ?? []
  }

  has(topic: string): boolean {
    return this.byTopic.has(topic)
  }

  topics(): string[] {
    return [...this.byTopic.keys()]
  }

  get topicCount(): number {
    return this.byTopic.size
  }

  get subscriberCount(): number {
    return this.byRef.size
  }
}
