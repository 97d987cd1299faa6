import type { ActorRef } from '../actor-ref.js'
import { ActorRef as ActorRefClass } from '../actor-ref.js'
import { defineBehavior } from '../define.js'
import { TroupeError } from '../errors.js'
import type { AnyProtocol } from '../protocol.js'
import type { ActorSystem } from '../system.js'
import type { MembershipView } from '../cluster/view.js'
import { MEDIATOR_NAME, Mediator } from './mediator.js'
import { checkTopic } from './topic.js'
import type { SubscriberProtocol } from './topic.js'

export interface PubSubOptions {
  /** How often a node sends its topic-table version to one peer, so a lost update is repaired (default 1000). */
  gossipIntervalMs?: number
  /** How long `subscribe` waits for every peer to learn of it (default: the system's askTimeoutMs). */
  subscribeTimeoutMs?: number
  /** Mailbox capacity of the mediator (default 1,000,000). */
  mailboxCapacity?: number
}

export interface PubSubStats {
  /** Topics with at least one subscriber on this node. */
  readonly topics: number
  /** Distinct subscriber refs on this node. */
  readonly subscribers: number
  /** Topics with subscribers on other nodes, as far as this node knows. */
  readonly remoteTopics: number
  readonly peers: number
  /** Publishes made on this node. */
  readonly published: number
  /** Publishes that arrived from other nodes (one per publish, however many subscribers here). */
  readonly received: number
  /** Copies handed to local subscribers. */
  readonly delivered: number
}

/**
 * Cluster-wide topics. Each node runs a mediator (/system/pubsub) that keeps
 * its local subscribers and knows which other nodes have subscribers for
 * which topics; `publish` on any node sends the message once to each node
 * with subscribers, and each node delivers it to its own. Subscribers receive
 * `tell('published', { topic, message })`. Guarantees: the package README (Entities).
 */
export class PubSub {
  private readonly mediator: Mediator
  private readonly ref: ActorRef<any>
  private readonly onChanged: () => void
  private stopped: Promise<void> | null = null

  private constructor(
    readonly system: ActorSystem,
    private readonly view: MembershipView,
    private readonly subscribeTimeoutMs: number,
    gossipIntervalMs: number,
    mailboxCapacity: number,
  ) {
    const mediator = new Mediator(system, view, { gossipIntervalMs })
    this.mediator = mediator
    const Def = defineBehavior<AnyProtocol, Mediator>({
      name: 'pubsub-mediator',
      initial: () => mediator,
      onStart: (m, ctx) => m.start(ctx),
      receive: (m, msg, ctx) => m.receive(msg.type, msg.payload, ctx),
      onSignal: (m, signal) => m.signal(signal),
      onStop: (m) => m.stop(),
      supervision: { onFailure: 'resume' },
      mailbox: { capacity: mailboxCapacity, overflow: 'reject' },
    })
    this.ref = system.spawnSystemActor(Def, { name: MEDIATOR_NAME })
    this.onChanged = () => this.ref.tell('view-changed')
    view.on('changed', this.onChanged)
  }

  static start(system: ActorSystem, view: MembershipView, options: PubSubOptions = {}): PubSub {
    if (view.self !== system.name) throw new TroupeError('INVALID_ARGUMENT', `membership view is of node '${view.self}' but the system is '${system.name}'`)
    const gossipIntervalMs = options.gossipIntervalMs ?? 1000
    const subscribeTimeoutMs = options.subscribeTimeoutMs ?? system.askTimeoutMs
    const mailboxCapacity = options.mailboxCapacity ?? 1_000_000
    for (const [name, v] of [['gossipIntervalMs', gossipIntervalMs], ['subscribeTimeoutMs', subscribeTimeoutMs]] as const) {
      if (!(Number.isFinite(v) && v > 0)) throw new TroupeError('INVALID_ARGUMENT', `${name} must be a finite number > 0, got ${v}`)
    }
    if (!(Number.isInteger(mailboxCapacity) && mailboxCapacity > 0)) throw new TroupeError('INVALID_ARGUMENT', `mailboxCapacity must be a positive integer`)
    return new PubSub(system, view, subscribeTimeoutMs, gossipIntervalMs, mailboxCapacity)
  }

  /**
   * Subscribes `ref` (local or remote) to `topic`. Resolves once every up
   * member has learned that this node has subscribers for the topic, so any
   * publish that starts after that reaches `ref`. Rejects with ASK_TIMEOUT if
   * a peer does not confirm within subscribeTimeoutMs; the subscription stays
   * in place and spreads when the peer answers.
   */
  subscribe<P extends SubscriberProtocol>(topic: string, ref: ActorRef<P>): Promise<void> {
    try {
      checkTopic(topic)
      checkRef(ref)
    } catch (err) {
      return Promise.reject(err)
    }
    const timeoutMs = this.subscribeTimeoutMs
    return this.ref.ask('subscribe', { topic, ref, timeoutMs }, { timeoutMs: timeoutMs + 1 }) as Promise<void>
  }

  /**
   * Removes `ref` from `topic`. Once this resolves, no publish reaches `ref`
   * through this subscription (a copy already handed to its mailbox excepted).
   */
  unsubscribe(topic: string, ref: ActorRef<any>): Promise<void> {
    try {
      checkTopic(topic)
      checkRef(ref)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.ref.ask('unsubscribe', { topic, ref }) as Promise<void>
  }

  /** Sends `message` to every subscriber of `topic` on every node (at most once each). */
  publish(topic: string, message: unknown): void {
    this.ref.tell('publish', { topic: checkTopic(topic), message })
  }

  stats(): PubSubStats {
    return this.mediator.stats()
  }

  /** Stops this node's mediator; its subscriptions are gone for the other nodes once they see it leave. */
  stop(): Promise<void> {
    if (this.stopped === null) {
      this.view.off?.('changed', this.onChanged)
      this.stopped = this.system.stop(this.ref).then(() => undefined)
    }
    return this.stopped
  }
}

function checkRef(ref: unknown): void {
  if (!(ref instanceof ActorRefClass)) throw new TroupeError('INVALID_ARGUMENT', 'subscriber must be an ActorRef')
}
