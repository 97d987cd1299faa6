// Pub/sub traffic for the cluster-faults scenario. Every node incarnation
// subscribes a listener to 'chatter' and publishes numbered messages to it.
// Checked under faults: a listener never gets a publish twice, nor one
// publisher's messages out of order. Checked after healing: a subscription
// made then (once `subscribe` resolved) gets every later publish from every
// node, exactly once.
import { PubSub, defineActor } from '@troupe/runtime'
import type { ActorSystem, Cluster, Published } from '@troupe/runtime'
import type { NodeEnv } from '../sim-node.js'
import type { SimWorld } from '../sim-world.js'

type Note = { from: string; seq: number }
const MAX_VIOLATIONS = 20

export interface TopicApp {
  readonly pubsub: PubSub
  readonly system: ActorSystem
}

export class TopicTraffic {
  readonly counts = { published: 0, heard: 0, subscribeTimeouts: 0 }
  readonly violations: string[] = []
  private running = false

  start(): void {
    this.running = true
  }

  boot(env: NodeEnv, system: ActorSystem, cluster: Cluster): TopicApp {
    const pubsub = PubSub.start(system, cluster, { gossipIntervalMs: 500, subscribeTimeoutMs: 2000 })
    const me = `${env.name}#${env.incarnation}`
    const listener = system.spawn(this.listener(me, 'chatter'), { name: 'chatter-listener' })
    pubsub.subscribe('chatter', listener).catch(() => void this.counts.subscribeTimeouts++)
    const traffic = this
    const Publisher = defineActor({
      name: 'chatter-publisher',
      initial: () => ({ seq: 0 }),
      onStart: (_s, ctx) => ctx.timers.startPeriodic('tick', env.prng.range(150, 250), 'tick', undefined),
      handlers: {
        tick(s) {
          if (!traffic.running) return
          traffic.counts.published++
          pubsub.publish('chatter', { from: me, seq: ++s.seq } satisfies Note)
        },
      },
    })
    system.spawn(Publisher, { name: 'chatter-publisher' })
    return { pubsub, system }
  }

  /**
   * After healing: each node subscribes a new listener to a new topic; once
   * every subscribe resolved, each node publishes once; every listener must
   * hear each node exactly once.
   */
  async checkAfterHeal(world: SimWorld, names: readonly string[], appOf: (name: string) => TopicApp): Promise<void> {
    const heard = new Map<string, string[]>()
    const subscribed = names.map((name) => {
      const app = appOf(name)
      heard.set(name, [])
      const Listener = defineActor({
        name: 'late-listener',
        initial: () => null,
        handlers: { published: (_s, p: Published<Note>) => void heard.get(name)!.push(p.message.from) },
      })
      return app.pubsub.subscribe('after-heal', app.system.spawn(Listener))
    })
    try {
      await world.waitFor(Promise.all(subscribed), 10_000)
    } catch (err) {
      return this.violation(`after healing, subscribe did not resolve: ${String(err)}`)
    }
    for (const name of names) appOf(name).pubsub.publish('after-heal', { from: name, seq: 1 } satisfies Note)
    await world.runFor(2000)
    for (const [name, froms] of heard) {
      const got = [...froms].sort().join(',')
      if (got !== [...names].sort().join(',')) this.violation(`after healing, ${name}'s new subscriber heard [${got}], not one publish from each node`)
    }
  }

  private listener(me: string, topic: string) {
    const traffic = this
    return defineActor({
      name: 'chatter-listener',
      initial: () => new Map<string, number>(),
      handlers: {
        published(last, p: Published<Note>) {
          traffic.counts.heard++
          const { from, seq } = p.message
          const before = last.get(from) ?? 0
          if (p.topic !== topic) traffic.violation(`${me} got a publish for '${p.topic}' through '${topic}'`)
          if (seq <= before) traffic.violation(`${me} heard ${from}'s publish #${seq} after #${before} (duplicate or out of order)`)
          last.set(from, Math.max(before, seq))
        },
      },
    })
  }

  private violation(what: string): void {
    if (this.violations.length < MAX_VIOLATIONS) this.violations.push(what)
  }
}
