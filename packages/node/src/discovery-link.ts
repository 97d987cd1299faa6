// The seam between startNode and the discovery module (src/discovery/): the
// contract's types, and a loader. Static seeds need neither; DNS and
// Kubernetes discovery run Cluster Bootstrap through `bootstrapSeeds` and
// answer other nodes' probes on GET /bootstrap through `bootstrapRoute`.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Clock, SeedNode } from '@troupe/runtime'

/** How seeds are found. 'static' is the same as `seeds`; the others need the discovery module and `http`. */
export type DiscoveryConfig =
  | { method: 'static'; seeds: SeedNode[] }
  | { method: 'dns'; [option: string]: unknown }
  | { method: 'kubernetes'; [option: string]: unknown }

/** What a node answers to a bootstrap probe: who it is and, once in a cluster, its members. */
export interface ProbeAnswer {
  node: string
  address: string
  /** Empty until this node is in a cluster. */
  members: SeedNode[]
}

export interface BootstrapInput {
  self: { node: string; address: string }
  discovery: DiscoveryConfig
  secret: string
  clock: Clock
  timers: { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(handle: unknown): void }
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void
  state(): ProbeAnswer
  signal?: AbortSignal
}

export interface DiscoveryModule {
  /** Seeds for Cluster.start (this node first: it forms a new cluster). */
  bootstrapSeeds(input: BootstrapInput): Promise<SeedNode[]>
  /** The GET /bootstrap handler; it authenticates callers itself (HMAC of the cluster secret). */
  bootstrapRoute(input: { secret: string; state(): ProbeAnswer }): (req: IncomingMessage, res: ServerResponse) => void
}

/**
 * Loads the discovery module. Resolved at run time so this package builds
 * and runs with static seeds whether or not the module is present.
 * TODO: import `./discovery/index.js` statically once it is merged.
 */
export async function loadDiscovery(): Promise<DiscoveryModule> {
  const specifier = './discovery/index.js'
  return (await import(specifier)) as DiscoveryModule
}
