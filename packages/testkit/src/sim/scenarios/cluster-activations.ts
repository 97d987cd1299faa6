// The single-activation checker. It replays what a simulation observed (node
// boots and crashes, each node's membership view, entity activations and
// stops, in the order they happened) against the guarantee of
// docs/entities.md: once all nodes share a view V and have exchanged
// statuses for V, each entity is active on at most one node, and it is never
// activated before the previous activation has stopped.
//
// "Shared": every running node holds the same non-empty view. Two rules:
// - an activation that starts while the view is shared, with another
//   activation of that entity still running, is a violation;
// - two activations running at once are a violation once the shared view has
//   held for `settleMs`. Before that an overlap may be left over from a time
//   when views differed (a partition before downing, two conflicting
//   changes): the old host stops it within 2 × handoffTimeoutMs of seeing
//   the new view, so `settleMs` must be at least that.
// Mode 'always' (for planned joins and leaves without faults, where the docs
// promise no overlap at all) reports any moment with two activations. Mode
// 'strict' adds to the two rules: a node must not activate an entity while a
// member of its own view still runs it (that member's status claims the
// shard, unless the status the node went by was stale: the docs promise
// that a join seen at different times does not cause two activations).
// Exempt is a node whose incarnation some node has already seen downed: a
// member removed before it learns so may run entities twice (documented).
import type { ClusterObservation } from './cluster-harness.js'

export interface ActivationViolation {
  atMs: number
  /** Index of the observation at (or before) which it held. */
  index: number
  entity: string
  /** Nodes with an activation of the entity (a node twice if it had two). */
  nodes: string[]
  /** The view all running nodes shared ('' when they did not: mode 'always'). */
  view: string
  rule: 'started-while-active' | 'overlap-in-settled-view' | 'overlap' | 'started-beside-member'
}

export interface ActivationCheckOptions {
  mode?: 'stable-views' | 'strict' | 'always'
  /** How long a shared view must have held before any overlap counts (default 4,000 ms). */
  settleMs?: number
  /** Virtual time at the end of the run (overlaps that last until then are checked too). */
  endMs?: number
}

export interface ActivationSummary {
  violations: ActivationViolation[]
  activations: number
  /** Activations that started while the view was shared. */
  activationsInSharedView: number
  /** Virtual ms during which the view was shared and settled. */
  settledMs: number
}

const MAX_VIOLATIONS = 20

export function checkSingleActivation(log: readonly ClusterObservation[], options: ActivationCheckOptions = {}): ActivationSummary {
  const always = options.mode === 'always'
  const strict = options.mode === 'strict'
  const settleMs = options.settleMs ?? 4000
  const views = new Map<string, string>()
  const incarnations = new Map<string, number>()
  const downed = new Map<string, number>()
  const active = new Map<string, string[]>()
  const doubles = new Set<string>()
  /** Entity → the shared interval (its start) in which it was last reported, so one overlap is reported once. */
  const reported = new Map<string, number>()
  let shared: string | null = null
  let sharedSince = 0
  const out: ActivationSummary = { violations: [], activations: 0, activationsInSharedView: 0, settledMs: 0 }

  const report = (rule: ActivationViolation['rule'], entity: string, atMs: number, index: number) => {
    const interval = shared === null ? -1 : sharedSince
    if (reported.get(entity) === interval) return
    reported.set(entity, interval)
    if (out.violations.length < MAX_VIOLATIONS) out.violations.push({ atMs, index, entity, nodes: [...active.get(entity)!], view: shared ?? '', rule })
  }
  /** Overlaps that lasted into the settled part of the shared interval, up to `untilMs`. */
  const checkSettled = (untilMs: number, index: number) => {
    if (shared === null) return
    const settledAt = sharedSince + settleMs
    if (untilMs < settledAt) return
    for (const entity of doubles) report('overlap-in-settled-view', entity, settledAt, index)
  }
  const remove = (entity: string, node: string) => {
    const nodes = active.get(entity)
    const i = nodes?.indexOf(node) ?? -1
    if (nodes === undefined || i < 0) return
    nodes.splice(i, 1)
    if (nodes.length === 0) active.delete(entity)
    if (nodes.length <= 1) doubles.delete(entity)
  }

  for (const [index, o] of log.entries()) {
    checkSettled(o.atMs, index)
    switch (o.kind) {
      case 'boot':
        views.set(o.node, '')
        incarnations.set(o.node, o.incarnation)
        break
      case 'downed':
        downed.set(o.member, Math.max(downed.get(o.member) ?? 0, o.incarnation))
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
        if (shared !== null) {
          out.activationsInSharedView++
          if (nodes.length > 1) report('started-while-active', o.entity, o.atMs, index)
        } else if (strict && nodes.length > 1 && (downed.get(o.node) ?? 0) < (incarnations.get(o.node) ?? 0)) {
          const members = (views.get(o.node) ?? '').split(',')
          if (nodes.slice(0, -1).some((n) => n === o.node || members.includes(n))) report('started-beside-member', o.entity, o.atMs, index)
        }
        break
      }
      case 'stop':
        remove(o.entity, o.node)
        break
    }
    const now = sharedView(views)
    if (now !== shared) {
      if (shared !== null) out.settledMs += Math.max(0, o.atMs - (sharedSince + settleMs))
      shared = now
      sharedSince = o.atMs
    }
    if (always) for (const entity of doubles) report('overlap', entity, o.atMs, index)
  }
  const endMs = options.endMs ?? log.at(-1)?.atMs ?? 0
  checkSettled(endMs, log.length - 1)
  if (shared !== null) out.settledMs += Math.max(0, endMs - (sharedSince + settleMs))
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
  const where = v.view === '' ? '' : ` while every running node's view was [${v.view}]`
  const what = {
    'started-while-active': 'activated again',
    'overlap-in-settled-view': 'still active twice in a settled view',
    overlap: 'active twice',
    'started-beside-member': 'activated by a node whose view holds the node already running it',
  }[v.rule]
  return `at ${v.atMs} ms (observation #${v.index}): entity ${v.entity} ${what}, on ${v.nodes.join(' and ')}${where}`
}
