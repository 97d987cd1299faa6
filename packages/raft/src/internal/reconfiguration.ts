import type { Entry } from '../storage.js'
import { applyConfChange, decodeConfChange, describeConfig } from './conf-change.js'
import { invariant } from './errors.js'
import type { Raft } from './raft.js'
import { bcastAppend, sendTimeoutNow } from './replication.js'

/**
 * Applies a committed config entry once the application has applied it: the
 * tracker switches to the new configuration, and a leader acts on it (steps
 * down if removed, drops a transfer to a non-voter, recounts its commit).
 */
export function applyConfEntry(r: Raft, e: Entry): void {
  if (e.index <= r.configIndex) return // already part of a restored snapshot's config
  const cc = decodeConfChange(e.data)
  invariant(cc !== null, `undecodable config entry at ${e.index}`)
  const next = applyConfChange(r.tracker.config(), cc)
  r.configIndex = e.index
  if (typeof next === 'string') {
    // Validated when proposed, so only reachable if the log was written by another implementation.
    r.info(`ignored invalid conf change at ${e.index}: ${next}`)
    return
  }
  r.tracker.setConfig(next, r.log.lastIndex() + 1)
  r.configHistory.push({ index: e.index, config: next })
  r.info(`switched to configuration ${describeConfig(next)}`)
  if (r.role !== 'leader') return
  if (!r.tracker.members.includes(r.id)) {
    stepDownRemoved(r)
    return
  }
  if (r.leadTransferee !== null && !r.tracker.isVoter(r.leadTransferee)) r.abortLeaderTransfer()
  // The quorum changed: the commit index may move, and new members need the log.
  r.maybeCommit()
  bcastAppend(r)
}

/** The leader was removed: hand over to the most up-to-date voter, then step down. */
function stepDownRemoved(r: Raft): void {
  let best: string | null = null
  for (const id of r.tracker.voters) {
    const pr = r.tracker.progress.get(id)!
    if (pr.match === r.log.lastIndex() && best === null) best = id
  }
  if (best !== null) sendTimeoutNow(r, best)
  r.info(`was removed from the configuration; stepping down`)
  r.becomeFollower(r.term, null)
}
