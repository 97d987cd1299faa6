import type { ClusterConfig, PersistedState } from '../storage.js'

/**
 * The durable state a founding member starts from: a snapshot at `index`
 * (term 1, empty data) that holds the initial configuration. Every founding
 * member must start from the same one. A node that joins later starts from
 * `emptyState()` and receives that snapshot (or a newer one) from the leader.
 */
export function bootstrapState(config: ClusterConfig, index = 1): PersistedState {
  return {
    hardState: { term: 0, vote: null, commit: index },
    snapshot: {
      meta: { index, term: 1, config: { voters: [...config.voters].sort(), learners: [...config.learners].sort() } },
      data: new Uint8Array(0),
    },
    entries: [],
  }
}

/** The state of a node that has never been part of the group. */
export function emptyState(): PersistedState {
  return { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] }
}
