// Entity traffic for the cluster-faults scenario: every node runs sharding
// with a 'probe' entity kind whose activations and stops go into the
// observation log (for the single-activation checker), and a client actor
// that tells and asks random probes. Checked here: an answer always comes
// from the entity asked, failures carry only the codes a faulty network
// explains, and after healing every entity answers, from one node.
import { Sharding, defineActor, entityId, isTroupeError } from '@troupe/runtime'
import type { ActorSystem, Cluster } from '@troupe/runtime'
import type { NodeEnv } from '../sim-node.js'
import type { SimWorld } from '../sim-world.js'
import type { ObservationLog } from './cluster-harness.js'

export interface EntityTrafficOptions {
  /** Entity ids the clients pick from (default 40). */
  entities?: number
  /** Mean virtual ms between two client messages on a node (default 40). */
  intervalMs?: number
  shards?: number
  passivateAfterMs?: number
  handoffTimeoutMs?: number
}

export interface EntityApp {
  readonly sharding: Sharding
  /** This incarnation's probe kind (refs are made from the registered definition). */
  readonly probe: ReturnType<typeof probeKind>
}

type Where = { node: string; id: string; count: number }
const ALLOWED_FAILURES = new Set(['ASK_TIMEOUT', 'NODE_UNREACHABLE'])
const MAX_VIOLATIONS = 20

/** A 'probe' entity that reports its activations and stops to the log. */
function probeKind(node: string, log: ObservationLog) {
  return defineActor({
    name: 'probe',
    initial: (ctx) => {
      const id = entityId(ctx)
      log.add({ kind: 'start', node, entity: id })
      return { id, count: 0 }
    },
    onStop: (s) => log.add({ kind: 'stop', node, entity: s.id }),
    handlers: {
      hit(s, _from: string) {
        s.count++
      },
      where: (s): Where => ({ node, id: s.id, count: s.count }),
    },
  })
}

export class EntityTraffic {
  readonly counts = { told: 0, asked: 0, answered: 0, timedOut: 0, unreachable: 0 }
  readonly violations: string[] = []
  private running = false
  private readonly ids: string[]

  constructor(private readonly options: EntityTrafficOptions = {}) {
    this.ids = Array.from({ length: options.entities ?? 40 }, (_, i) => `e${i}`)
  }

  /** Clients send only after this (nodes boot and form the cluster quietly first). */
  start(): void {
    this.running = true
  }

  /** Builds sharding and the client on a freshly booted node. */
  boot(env: NodeEnv, system: ActorSystem, cluster: Cluster, log: ObservationLog): EntityApp {
    const sharding = Sharding.start(system, cluster, {
      shards: this.options.shards ?? 64,
      passivateAfterMs: this.options.passivateAfterMs ?? 3000,
      handoffTimeoutMs: this.options.handoffTimeoutMs ?? 2000,
    })
    const Probe = probeKind(env.name, log)
    sharding.register(Probe)
    const traffic = this
    const meanMs = this.options.intervalMs ?? 40
    const Client = defineActor({
      name: 'probe-client',
      initial: () => null,
      onStart: (_s, ctx) => ctx.timers.startSingle('tick', env.prng.range(1, meanMs), 'tick', undefined),
      handlers: {
        tick(_s, _: void, ctx) {
          ctx.timers.startSingle('tick', env.prng.range(meanMs / 2, (meanMs * 3) / 2), 'tick', undefined)
          if (!traffic.running) return
          const id = env.prng.pick(traffic.ids)
          const probe = sharding.entity(Probe, id)
          if (env.prng.chance(0.7)) {
            traffic.counts.told++
            probe.tell('hit', env.name)
            return
          }
          traffic.counts.asked++
          probe.ask('where', undefined, { timeoutMs: 1000 }).then(
            (w) => {
              traffic.counts.answered++
              if (w.id !== id) traffic.violation(`${env.name} asked probe ${id}, answered by probe ${w.id} on ${w.node}`)
            },
            (err) => traffic.failed(`${env.name} → probe ${id}`, err),
          )
        },
      },
    })
    system.spawn(Client, { name: 'probe-client' })
    return { sharding, probe: Probe }
  }

  /** No shard of any node is waiting or handing off, and nothing is buffered. */
  quiet(names: readonly string[], appOf: (name: string) => EntityApp | undefined): boolean {
    return names.every((name) => {
      const s = appOf(name)?.sharding.stats()
      return s !== undefined && s.shardsWaiting === 0 && s.shardsHandingOff === 0 && s.buffered === 0
    })
  }

  /**
   * Once handoffs are done, every entity answers, asked from two nodes, and
   * both answers come from the same node.
   */
  async checkAllReachable(world: SimWorld, names: readonly string[], appOf: (name: string) => EntityApp): Promise<void> {
    if (!(await world.runUntil(() => this.quiet(names, appOf), 10_000))) this.violation(`shards still moving 10 s after membership converged`)
    const rng = world.random('entity-check')
    const checks = this.ids.map(async (id) => {
      const [a, b] = rng.shuffle([...names])
      const ask = (from: string) => {
        const app = appOf(from)
        return app.sharding.entity(app.probe, id).ask('where', undefined, { timeoutMs: 5000 })
      }
      try {
        const [x, y] = (await Promise.all([ask(a!), ask(b!)])) as [Where, Where]
        if (x.node !== y.node) this.violation(`after healing, probe ${id} answered from ${x.node} (asked on ${a}) and from ${y.node} (asked on ${b})`)
      } catch (err) {
        this.violation(`after healing, probe ${id} did not answer: ${String(err)}`)
      }
    })
    await world.waitFor(Promise.all(checks), 10_000)
  }

  private failed(what: string, err: unknown): void {
    const code = isTroupeError(err) ? err.code : undefined
    if (code === 'ASK_TIMEOUT') this.counts.timedOut++
    else if (code === 'NODE_UNREACHABLE') this.counts.unreachable++
    if (code === undefined || !ALLOWED_FAILURES.has(code)) this.violation(`${what} failed unexpectedly: ${String(err)}`)
  }

  private violation(what: string): void {
    if (this.violations.length < MAX_VIOLATIONS) this.violations.push(what)
  }
}
