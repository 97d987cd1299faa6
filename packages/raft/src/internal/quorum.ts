/** Majority arithmetic over one voter set (etcd's quorum/majority.go). */

export type VoteResult = 'pending' | 'won' | 'lost'

/**
 * The largest value acknowledged by a majority of `voters`: sort the values
 * descending and take the one at position quorum-1. With no voters nothing
 * can be acknowledged, so 0.
 */
export function majorityValue(voters: readonly string[], valueOf: (id: string) => number): number {
  const n = voters.length
  if (n === 0) return 0
  const values = voters.map(valueOf).sort((a, b) => b - a)
  return values[quorum(n) - 1]!
}

export function quorum(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1
}

/** Tallies votes: won once a quorum granted, lost once a quorum can no longer be reached. */
export function voteResult(voters: readonly string[], votes: ReadonlyMap<string, boolean>): VoteResult {
  if (voters.length === 0) return 'won'
  let granted = 0
  let missing = 0
  for (const id of voters) {
    const v = votes.get(id)
    if (v === undefined) missing++
    else if (v) granted++
  }
  const q = quorum(voters.length)
  if (granted >= q) return 'won'
  if (granted + missing >= q) return 'pending'
  return 'lost'
}
