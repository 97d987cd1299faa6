import type { Clock, SeedNode } from '@troupe/runtime'
import { runBootstrap } from './bootstrap-driver.js'
import type { BootstrapTimers, FinalDecision, LogFn, ProbeFn } from './bootstrap-driver.js'
import { resolveTunables } from './bootstrap-tunables.js'
import type { BootstrapTunables } from './bootstrap-tunables.js'
import { createDiscovery } from './create-discovery.js'
import type { DiscoveryConfig } from './discovery-config.js'
import { DiscoveryError } from './discovery-error.js'
import type { Discovery } from './discovery-method.js'
import { httpProbe } from './http-probe.js'
import type { ProbeAnswer } from './probe-answer.js'

export interface BootstrapInput extends Partial<BootstrapTunables> {
  /** This node: its name and its cluster (transport) address. */
  readonly self: { readonly node: string; readonly address: string }
  readonly discovery: DiscoveryConfig
  /** The cluster secret: probes and their answers are signed with it. */
  readonly secret: string
  readonly clock: Clock
  readonly timers: BootstrapTimers
  readonly log: LogFn
  /** This node's own probe answer (what `bootstrapRoute` serves); members stay empty until it is in a cluster. */
  state(): ProbeAnswer
  readonly signal?: AbortSignal
  /** Replaces the lookup built from `discovery` (tests, custom registries). */
  readonly lookup?: Discovery
  /** Replaces the HTTP probe (tests, simulations). */
  readonly probe?: ProbeFn
  /** Sees every decision (tests). */
  readonly onDecision?: Parameters<typeof runBootstrap>[0]['onDecision']
}

/**
 * The seeds to hand `Cluster.start`. Static discovery returns the configured
 * seeds at once. The other methods run Cluster Bootstrap: `[self]` alone when
 * this node forms a new cluster (start the Cluster at once, in the same turn,
 * so `state()` shows the new member to the next probe), else the members of
 * the cluster a contact reported (which never lists this node first, so the
 * Cluster joins and never forms on its own).
 */
export async function bootstrapSeeds(input: BootstrapInput): Promise<SeedNode[]> {
  const d = input.discovery
  if (d.method === 'static') return staticSeeds(d.seeds)
  const tunables = resolveTunables(input)
  if (typeof input.secret !== 'string' || input.secret.length === 0) {
    throw new DiscoveryError('INVALID_DISCOVERY_CONFIG', 'config', 'bootstrap needs a non-empty cluster secret')
  }
  const self = { node: input.self.node, address: input.self.address }
  const decision = await runBootstrap({
    self,
    discovery: input.lookup ?? createDiscovery(d, { log: input.log }),
    probe: input.probe ?? httpProbe(input.secret, input.clock),
    clock: input.clock,
    timers: input.timers,
    log: input.log,
    tunables,
    ...(input.signal ? { signal: input.signal } : {}),
    ...(input.onDecision ? { onDecision: input.onDecision } : {}),
  })
  return seedsFor(self, decision)
}

/** What a final decision means for `Cluster.start`'s seeds. */
export function seedsFor(self: SeedNode, decision: FinalDecision): SeedNode[] {
  if (decision.kind === 'form') return [self]
  return decision.seeds.filter((s) => s.node !== self.node).map((s) => ({ node: s.node, address: s.address }))
}

function staticSeeds(seeds: readonly SeedNode[]): SeedNode[] {
  if (!Array.isArray(seeds)) throw new DiscoveryError('INVALID_DISCOVERY_CONFIG', 'static', 'seeds must be an array of { node, address }')
  return seeds.map((s) => {
    if (typeof s?.node !== 'string' || s.node === '' || typeof s.address !== 'string' || s.address === '') {
      throw new DiscoveryError('INVALID_DISCOVERY_CONFIG', 'static', `bad seed ${JSON.stringify(s)}`)
    }
    return { node: s.node, address: s.address }
  })
}
