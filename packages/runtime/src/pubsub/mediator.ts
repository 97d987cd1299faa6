import { ActorRef } from '../actor-ref.js'
import type { ActorContext, DeferredReply } from '../context.js'
import { TroupeError, isTroupeError } from '../errors.js'
import type { Signal } from '../signals.js'
import type { ActorSystem } from '../system.js'
import type { MembershipView } from '../cluster/view.js'
import { LocalTopics } from './local-topics.js'
import { RemoteTopics } from './remote-topics.js'
import { isValidTopic } from './topic.js'
import type { Published } from './topic.js'

export const MEDIATOR_NAME = 'pubsub'
export const MEDIATOR_PATH = `/system/${MEDIATOR_NAME}`

/** Topics per sync message, so a full table never makes one oversized message. */
const SYNC_CHUNK = 1000
/** Subscribes waiting for peers' acknowledgements at once. */
const MAX_PENDING_SUBSCRIBES = 10_000

export interface MediatorConfig {
  readonly gossipIntervalMs: number
}

interface Pending {
  readonly version: number
  readonly reply: DeferredReply
  readonly deadlineMs: number
}

/**
 * The pub/sub mediator of one node (/system/pubsub). It keeps this node's
 * subscribers, tells every peer which topics have subscribers here (versioned
 * deltas; a full sync to new peers or after a gap; a version digest to one
 * peer per gossip interval catches a lost last delta), and sends each publish
 * once to every node with subscribers for the topic.
 */
export class Mediator {
  private ctx!: ActorContext<any>
  /** Distinguishes this incarnation's versions from a restarted node's. */
  private readonly epoch: number
  private version = 0
  private readonly local = new LocalTopics()
  /** Version at which each local topic was added: a subscribe is confirmed once every peer acked it. */
  private readonly topicVersion = new Map<string, number>()
  private readonly remote = new RemoteTopics()
  private readonly acked = new Map<string, number>()
  private pending: Pending[] = []
  private peers: string[] = []
  private gossipNext = 0
  private readonly refs = new Map<string, ActorRef>()
  published = 0
  delivered = 0
  received = 0

  constructor(
    private readonly system: ActorSystem,
    private readonly view: MembershipView,
    private readonly config: MediatorConfig,
  ) {
    this.epoch = Math.floor(system.random() * 2 ** 48)
  }

  start(ctx: ActorContext<any>): void {
    this.ctx = ctx
    ctx.timers.startPeriodic('gossip', this.config.gossipIntervalMs, 'gossip', undefined)
    this.onViewChanged()
  }

  receive(type: string, payload: any, ctx: ActorContext<any>): void {
    switch (type) {
      case 'subscribe':
        return this.onSubscribe(payload, ctx.deferReply())
      case 'unsubscribe':
        return this.onUnsubscribe(payload)
      case 'publish':
        return this.onPublish(payload, true)
      case 'deliver':
        return this.onPublish(payload, false)
      case 'delta':
        return this.onDelta(payload)
      case 'sync':
        return this.onSync(payload)
      case 'sync-request':
        return typeof payload?.node === 'string' ? this.sendSync(payload.node) : this.rejected(type, payload)
      case 'digest':
        return this.onDigest(payload)
      case 'ack':
        return this.onAck(payload)
      case 'view-changed':
        return this.onViewChanged()
      case 'gossip':
        return this.onGossip()
      default:
        return this.rejected(type, payload)
    }
  }

  signal(signal: Signal): void {
    if (signal.type !== 'terminated') return
    const gone = this.local.removeRef(signal.ref)
    this.topicsGone(gone)
  }

  stop(): void {
    for (const p of this.pending) p.reply.reject(new TroupeError('ACTOR_STOPPED', `pub/sub on ${this.view.self} stopped`))
    this.pending = []
  }

  stats(): { topics: number; subscribers: number; remoteTopics: number; peers: number; published: number; received: number; delivered: number } {
    const { published, received, delivered } = this
    return { topics: this.local.topicCount, subscribers: this.local.subscriberCount, remoteTopics: this.remote.topicCount, peers: this.peers.length, published, received, delivered }
  }

  // ---- local API -------------------------------------------------------------

  private onSubscribe(p: { topic: unknown; ref: unknown; timeoutMs: unknown }, reply: DeferredReply): void {
    if (!isValidTopic(p?.topic) || !(p.ref instanceof ActorRef) || typeof p.timeoutMs !== 'number') return reply.reject(new TroupeError('INVALID_ARGUMENT', 'subscribe needs a topic and a ref'))
    const { newTopic, newRef } = this.local.add(p.topic, p.ref)
    if (newRef) this.ctx.watch(p.ref)
    if (newTopic) {
      this.topicVersion.set(p.topic, ++this.version)
      this.broadcast('delta', { node: this.view.self, epoch: this.epoch, version: this.version, added: [p.topic], removed: [] })
    }
    const need = this.topicVersion.get(p.topic)!
    if (this.allAcked(need)) return reply.resolve(undefined)
    if (this.pending.length >= MAX_PENDING_SUBSCRIBES) return reply.reject(new TroupeError('BACKPRESSURE', `${MAX_PENDING_SUBSCRIBES} subscribes already wait for peers`))
    this.pending.push({ version: need, reply, deadlineMs: this.system.clock.now() + p.timeoutMs })
  }

  private onUnsubscribe(p: { topic: unknown; ref: unknown }): void {
    if (!isValidTopic(p?.topic) || !(p.ref instanceof ActorRef)) return
    const { topicGone, refGone } = this.local.remove(p.topic, p.ref)
    if (refGone) this.ctx.unwatch(p.ref)
    if (topicGone) this.topicsGone([p.topic])
  }

  private topicsGone(topics: string[]): void {
    if (topics.length === 0) return
    for (const t of topics) this.topicVersion.delete(t)
    for (let i = 0; i < topics.length; i += SYNC_CHUNK) {
      this.broadcast('delta', { node: this.view.self, epoch: this.epoch, version: ++this.version, added: [], removed: topics.slice(i, i + SYNC_CHUNK) })
    }
  }

  private onPublish(p: { topic: unknown; message: unknown }, fromHere: boolean): void {
    if (!isValidTopic(p?.topic)) return this.rejected(fromHere ? 'publish' : 'deliver', p)
    if (!fromHere) this.received++
    const published: Published = { topic: p.topic, message: p.message }
    for (const ref of this.local.subscribers(p.topic)) {
      this.delivered++
      try {
        ref.tell('published', published)
      } catch {
        // A full 'reject' mailbox: that subscriber's copy is a dead letter; the others still get theirs.
      }
    }
    if (!fromHere) return
    this.published++
    for (const node of this.remote.nodesFor(p.topic)) {
      if (this.peers.includes(node)) this.send(node, 'deliver', published)
    }
  }

  // ---- between mediators -----------------------------------------------------

  private onDelta(d: { node: unknown; epoch: unknown; version: unknown; added: unknown; removed: unknown }): void {
    if (typeof d?.node !== 'string' || !isUint(d.epoch) || !isUint(d.version) || !isTopicList(d.added) || !isTopicList(d.removed)) return this.rejected('delta', d)
    const result = this.remote.applyDelta(d.node, d.epoch, d.version, d.added, d.removed)
    if (result === 'gap') return this.send(d.node, 'sync-request', { node: this.view.self })
    this.send(d.node, 'ack', { node: this.view.self, epoch: d.epoch, version: this.remote.versionOf(d.node, d.epoch) })
  }

  private onSync(s: { node: unknown; epoch: unknown; version: unknown; topics: unknown; reset: unknown; done: unknown }): void {
    if (typeof s?.node !== 'string' || !isUint(s.epoch) || !isUint(s.version) || !isTopicList(s.topics) || typeof s.reset !== 'boolean' || typeof s.done !== 'boolean') return this.rejected('sync', s)
    if (!this.remote.applySync(s.node, s.epoch, s.version, s.topics, s.reset, s.done)) return this.send(s.node, 'sync-request', { node: this.view.self })
    if (s.done) this.send(s.node, 'ack', { node: this.view.self, epoch: s.epoch, version: s.version })
  }

  private onDigest(d: { node: unknown; epoch: unknown; version: unknown }): void {
    if (typeof d?.node !== 'string' || !isUint(d.epoch) || !isUint(d.version)) return this.rejected('digest', d)
    if (this.remote.versionOf(d.node, d.epoch) < d.version) this.send(d.node, 'sync-request', { node: this.view.self })
  }

  private onAck(a: { node: unknown; epoch: unknown; version: unknown }): void {
    if (typeof a?.node !== 'string' || !isUint(a.epoch) || !isUint(a.version)) return this.rejected('ack', a)
    if (a.epoch !== this.epoch) return
    if ((this.acked.get(a.node) ?? -1) < a.version) this.acked.set(a.node, a.version)
    this.settlePending()
  }

  private sendSync(node: string): void {
    const topics = this.local.topics()
    for (let i = 0; i === 0 || i < topics.length; i += SYNC_CHUNK) {
      const part = topics.slice(i, i + SYNC_CHUNK)
      this.send(node, 'sync', { node: this.view.self, epoch: this.epoch, version: this.version, topics: part, reset: i === 0, done: i + SYNC_CHUNK >= topics.length })
    }
  }

  private onViewChanged(): void {
    const self = this.view.self
    const peers = [...new Set(this.view.upMembers())].filter((m) => m !== self).sort()
    for (const node of this.peers) {
      if (peers.includes(node)) continue
      this.remote.drop(node)
      this.acked.delete(node)
    }
    const joined = peers.filter((node) => !this.peers.includes(node))
    this.peers = peers
    for (const node of joined) {
      this.sendSync(node)
      this.send(node, 'sync-request', { node: self })
    }
    this.settlePending()
  }

  /** One peer per interval gets this node's version; one that is behind asks for a sync. */
  private onGossip(): void {
    const now = this.system.clock.now()
    const expired = this.pending.filter((p) => p.deadlineMs <= now)
    if (expired.length > 0) {
      this.pending = this.pending.filter((p) => p.deadlineMs > now)
      for (const p of expired) p.reply.reject(new TroupeError('ASK_TIMEOUT', 'subscribe was not acknowledged by every peer in time (it stays in place)'))
    }
    // Reachability has no event of its own: a peer that became unreachable stops holding subscribes back here.
    this.settlePending()
    if (this.peers.length === 0) return
    const node = this.peers[this.gossipNext++ % this.peers.length]
    this.send(node, 'digest', { node: this.view.self, epoch: this.epoch, version: this.version })
  }

  /** Every peer this node reaches has acknowledged `version` (one it cannot reach catches up through the digests once it is back). */
  private allAcked(version: number): boolean {
    for (const node of this.peers) {
      if (this.view.isReachable?.(node) === false) continue
      if ((this.acked.get(node) ?? -1) < version) return false
    }
    return true
  }

  private settlePending(): void {
    if (this.pending.length === 0) return
    const still: Pending[] = []
    for (const p of this.pending) {
      if (this.allAcked(p.version)) p.reply.resolve(undefined)
      else still.push(p)
    }
    this.pending = still
  }

  private broadcast(type: string, payload: unknown): void {
    for (const node of this.peers) this.send(node, type, payload)
  }

  private send(node: string, type: string, payload: unknown): void {
    let ref = this.refs.get(node)
    if (ref === undefined) this.refs.set(node, (ref = this.system.remoteRef(node, MEDIATOR_PATH)))
    try {
      this.ctx.tell(ref, type, payload)
    } catch (err) {
      this.system.deadLetter(`${node}${MEDIATOR_PATH}`, type, payload, isTroupeError(err) ? err.code.toLowerCase() : 'send-failed')
    }
  }

  private rejected(type: string, payload: unknown): void {
    this.system.deadLetter(MEDIATOR_PATH, type, payload, 'malformed')
  }
}

function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0
}

function isTopicList(v: unknown): v is string[] {
  return Array.isArray(v) && v.length <= SYNC_CHUNK && v.every(isValidTopic)
}
