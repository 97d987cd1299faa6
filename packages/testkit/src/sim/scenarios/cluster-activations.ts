// The single-activation checker. It replays what a simulation observed (node
// boots and crashes, each node's membership view, entity activations and
// stops, in the order they happened) and reports every moment at which an
// entity was active more than once while the view was stable and shared:
// every running node had the same non-empty view. That is the guarantee
// sharding states (docs/entities.md); while views differ (a change
// spreading, a partition before downing, a downed node still running) two
// activations are allowed and not reported.
import type { ClusterObservation } from './cluster-harness.js'

export interface ActivationViolation {
  atMs: number
  /** Index of the observation after which it held. */
  index: number
  entity: string
  /** Nodes with an activation of the entity (a node twice if it had two). */
  nodes: string[]
  /** The view all running nodes shared. */
  view: string
}

export interface ActivationSummary {
  violations: ActivationViolation[]
  activations: number
  /** Observations after which the view was stable and shared. */
  sharedSteps: number
  /** Activations that started while the view was stable and shared. */
  activationsInSharedView: number
}

const MAX_VIOLATIONS = 20

export function checkSingleActivation(log: readonly ClusterObservation[]): ActivationSummary {
  const views = new Map<string, string>()
  const active = new Map<string, string[]>()
  const doubles = new Set<string>()
  /** Entities already reported in the current shared interval (one report per interval). */
  let reported = new Set<string>()
  const out: ActivationSummary = { violations: [], activations: 0, sharedSteps: 0, activationsInSharedView: 0 }

  const remove = (entity: string, node: string) => {
    const nodes = active.get(entity)
    const i = nodes?.indexOf(node) ?? -1
    if (nodes === undefined || i < 0) return
    nodes.splice(i, 1)
    if (nodes.length === 0) active.delete(entity)
    if (nodes.length <= 1) doubles.delete(entity)
  }

  for (const [index, o] of log.entries()) {
    switch (o.kind) {
      case 'boot':
        views.set(o.node, '')
        break
      case 'crash':
        views.delete(o.node)
        for (const [entity, nodes] of [...active]) while (nodes.includes(o.node)) remove(entity, o.node)
        break
      case 'view':
        if (views.has(o.node)) views.set(o.node, [...o.members].sort().join(','))
        break
      case 'start': {
        out.activations++
        const nodes = active.get(o.entity) ?? []
        nodes.push(o.node)
        active.set(o.entity, nodes)
        if (nodes.length > 1) doubles.add(o.entity)
        break
      }
      case 'stop':
        remove(o.entity, o.node)
        break
    }
    const view = sharedView(views)
    if (view === null) {
      reported = new Set()
      continue
    }
    out.sharedSteps++
    if (o.kind === 'start') out.activationsInSharedView++
    for (const entity of doubles) {
      if (reported.has(entity)) continue
      reported.add(entity)
      if (out.violations.length < MAX_VIOLATIONS) out.violations.push({ atMs: o.atMs, index, entity, nodes: [...active.get(entity)!], view })
    }
  }
  return out
}

/** The view every running node holds, or null when they differ, none runs, or it is empty. */
function sharedView(views: ReadonlyMap<string, string>): string | null {
  let shared: string | null = null
  for (const v of views.values()) {
    if (v === '' || (shared !== null && v !== shared)) return null
    shared = v
  }
  return shared
}

export function describeViolation(v: ActivationViolation): string {
  return `at ${v.atMs} ms (observation #${v.index}): entity ${v.entity} active on ${v.nodes.join(' and ')} while every running node's view was [${v.view}]`
}
