// The handle `startNode` returns: the node's parts, its readiness, `whenUp`
// and the coordinated shutdown.
import type { ActorSystem, Cluster, PubSub, Sharding } from '@troupe/runtime'
import type { Leases } from '@troupe/lease'
import type { StateMachine } from '@troupe/raft'
import type { SagaCoordinator } from '@troupe/saga'
import type { ShutdownTask } from './coordinated-shutdown.js'
import type { PhaseReport } from './coordinated-shutdown.js'
import type { RouteHandler, RouteOptions } from './node-http.js'
import type { GroupOf, NodeGroupOptions } from './raft-service.js'
import type { ShutdownPhaseName } from './node-config.js'
import type { WhenUpOptions } from './when-up.js'

export interface NodeReadiness {
  ready: boolean
  /** Why not ready: 'starting', 'joining', 'not up (status ...)', 'shutting down (...)'. Null when ready. */
  reason: string | null
  status: string | null
  members: string[]
}

export interface NodeHttpHandle {
  /** `http://host:port` of the listener. */
  readonly url: string
  /** Mounts a route; 'operator' routes need a bearer token, 'node' routes authenticate callers themselves. */
  route(method: string, path: string, handler: RouteHandler, options: RouteOptions): void
}

export interface ShutdownOptions {
  /** Logged, and given to `/ready` while shutting down (default 'shutdown()'). */
  reason?: string
  /** Upper bound on the whole shutdown, in ms; phases still running then are abandoned (default: the sum of the phase timeouts). */
  timeoutMs?: number
}

export interface TroupeNode {
  readonly name: string
  readonly system: ActorSystem
  readonly cluster: Cluster
  /** Where peers reach this node's transport (ws://host:port, or the name on an injected transport). */
  readonly address: string
  /** Sharded entities (throws NOT_CONFIGURED when `services.sharding` is not set). */
  readonly sharding: Sharding
  readonly pubsub: PubSub
  readonly raft: {
    /** The node's Raft host actor (/system/raft). */
    readonly host: unknown
    /** Opens a group; storage defaults to the node's WAL, members to `raftMembers`. */
    group<S extends StateMachine<any, any, any, any>>(options: NodeGroupOptions<S>): Promise<GroupOf<S>>
  }
  readonly leases: Leases
  readonly sagas: SagaCoordinator
  /** The HTTP listener (throws NOT_CONFIGURED when `http` is not set). */
  readonly http: NodeHttpHandle
  /** Ready = joined, up, services started, not shutting down: what /ready answers. */
  readonly readiness: NodeReadiness
  readonly ready: boolean
  /** Resolves with the up members once at least `members` are up (this node included). */
  whenUp(options?: WhenUpOptions): Promise<string[]>
  /** Adds an app task to a shutdown phase (e.g. 'stop-work': stop taking requests). */
  onShutdown(phase: ShutdownPhaseName, name: string, task: ShutdownTask): void
  /** Coordinated shutdown; idempotent (later calls get the same promise). Never rejects. */
  shutdown(options?: ShutdownOptions): Promise<PhaseReport[]>
}
