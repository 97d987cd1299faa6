import type { RaftStatus } from '../internal/raft-core.js'

/** What `transferLeadershipAway` did, group by group. */
export interface LeadershipHandoff {
  /** Groups whose leadership moved to another voter (as this node saw the new leader). */
  moved: Array<{ group: string; to: string }>
  /** Groups this node leads with no other voter: there is nobody to hand them to. */
  kept: string[]
  /** Groups whose transfer was refused or did not complete in time; this node may still lead them. */
  failed: Array<{ group: string; to: string | null; code: string; message: string }>
}

/**
 * The voter a leader should hand a group to: the most up-to-date other
 * voter (highest match index), preferring one heard from recently; ties by
 * name, so every run picks the same. Null when there is no other voter.
 */
export function handoffTarget(st: RaftStatus): string | null {
  let best: { id: string; match: number; active: boolean } | null = null
  for (const p of st.progress) {
    if (p.id === st.id || p.isLearner || !st.config.voters.includes(p.id)) continue
    const c = { id: p.id, match: p.match, active: p.recentActive }
    if (best === null || better(c, best)) best = c
  }
  return best?.id ?? null
}

function better(a: { id: string; match: number; active: boolean }, b: { id: string; match: number; active: boolean }): boolean {
  if (a.active !== b.active) return a.active
  if (a.match !== b.match) return a.match > b.match
  return a.id < b.id
}
