import type { ActorSystem, Cluster, PubSub, Sharding } from '@troupe/runtime'
import type { Leases } from '@troupe/lease'
import type { StateMachine } from '@troupe/raft'
import type { SagaCoordinator } from '@troupe/saga'
import type { PhaseReport, ShutdownTask } from '../coordinated-shutdown.js'
import type { ShutdownPhaseName } from '../node-config.js'
import { NodeError } from '../node-error.js'
import { sendJson } from '../node-http.js'
import type { RouteHandler, RouteOptions } from '../node-http.js'
import type { NodeParts } from '../node-parts.js'
import type { GroupOf, NodeGroupOptions } from '../raft-service.js'
import type { NodeHttpHandle, NodeReadiness, ShutdownOptions, TroupeNode } from '../troupe-node.js'
import { whenUp } from '../when-up.js'
import type { WhenUpOptions } from '../when-up.js'

/** The TroupeNode startNode returns. */
export class NodeHandle implements TroupeNode {
  readonly name: string
  private readonly stoppingListeners = new Set<() => void>()

  constructor(private readonly p: NodeParts) {
    this.name = p.rc.name
    if (p.http) {
      p.http.route('GET', '/live', (_req, res) => sendJson(res, 200, { live: true, node: this.name }), { access: 'anonymous' })
      p.http.route('GET', '/ready', (_req, res) => {
        const r = this.readiness
        sendJson(res, r.ready ? 200 : 503, { node: this.name, ...r })
      }, { access: 'anonymous' })
    }
  }

  get system(): ActorSystem {
    return this.p.system
  }

  get cluster(): Cluster {
    if (!this.p.cluster) throw new NodeError('NOT_CONFIGURED', 'the cluster has not started yet')
    return this.p.cluster
  }

  get address(): string {
    return this.p.address
  }

  get sharding(): Sharding {
    return need(this.p.sharding, 'sharding', 'services.sharding')
  }

  get pubsub(): PubSub {
    return need(this.p.pubsub, 'pub/sub', 'services.pubsub')
  }

  get raft(): TroupeNode['raft'] {
    const raft = need(this.p.raft, 'the Raft host', 'services.raft')
    return {
      host: raft.host,
      group: <S extends StateMachine<any, any, any, any>>(options: NodeGroupOptions<S>): Promise<GroupOf<S>> => raft.group<S>(options),
    }
  }

  get leases(): Leases {
    return need(this.p.leases, 'leases', 'services.leases')
  }

  get sagas(): SagaCoordinator {
    return need(this.p.sagas, 'sagas', 'services.sagas').coordinator
  }

  get http(): NodeHttpHandle {
    const http = need(this.p.http, 'the HTTP listener', 'http')
    return {
      url: http.url!,
      route: (method: string, path: string, handler: RouteHandler, options: RouteOptions) => http.route(method, path, handler, options),
    }
  }

  get readiness(): NodeReadiness {
    const cluster = this.p.cluster
    const status = cluster?.status ?? null
    const members = cluster?.upMembers() ?? []
    const not = (reason: string): NodeReadiness => ({ ready: false, reason, status, members })
    if (this.p.shutdown.started) return not(`shutting down (${this.p.shutdown.reason})`)
    if (!this.p.started || cluster === null) return not('starting')
    if (cluster.isTerminated) return not(`not a member (${status})`)
    if (!cluster.isUp) return not(status === null ? 'joining' : `not up (status ${status})`)
    return { ready: true, reason: null, status, members }
  }

  get ready(): boolean {
    return this.readiness.ready
  }

  whenUp(options?: WhenUpOptions): Promise<string[]> {
    return whenUp(
      {
        cluster: this.cluster,
        clock: this.p.system.clock,
        auth: this.p.auth,
        stopping: () => (this.p.shutdown.started ? this.p.shutdown.reason : null),
        onStopping: (fn) => {
          this.stoppingListeners.add(fn)
          return () => this.stoppingListeners.delete(fn)
        },
      },
      options,
    )
  }

  onShutdown(phase: ShutdownPhaseName, name: string, task: ShutdownTask): void {
    this.p.shutdown.addTask(phase, name, task)
  }

  shutdown(options: ShutdownOptions = {}): Promise<PhaseReport[]> {
    const first = !this.p.shutdown.started
    const run = this.p.shutdown.run(options.reason ?? 'shutdown()')
    if (first) for (const fn of [...this.stoppingListeners]) fn()
    if (options.timeoutMs === undefined) return run
    const clock = this.p.system.clock
    return new Promise((resolve) => {
      const timer = clock.setTimer(options.timeoutMs!, () => {
        this.p.log('warn', `shutdown did not finish within ${options.timeoutMs} ms: abandoning the remaining phases`)
        resolve([])
      })
      void run.then((reports) => {
        clock.clearTimer(timer)
        resolve(reports)
      })
    })
  }
}

function need<T>(value: T | null, what: string, field: string): T {
  if (value === null) throw new NodeError('NOT_CONFIGURED', `${what} is not running on this node: set ${field} in its config`)
  return value
}
