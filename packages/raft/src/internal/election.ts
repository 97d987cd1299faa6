import type { VoteRequest } from './message.js'
import type { Raft } from './raft.js'
import { bcastAppend } from './replication.js'

/** Why a node campaigns: its election timeout (with or without a pre-vote first), or a leader's transfer. */
export type CampaignKind = 'preElection' | 'election' | 'transfer'

/** Voters may campaign; learners, removed nodes and nodes restoring a snapshot may not. */
export function promotable(r: Raft): boolean {
  return r.tracker.isVoter(r.id) && r.log.unstableSnapshot === null
}

/** Starts a campaign if this node may (etcd's hup): not a leader, promotable, no config change left to apply. */
export function hup(r: Raft, kind: CampaignKind): void {
  if (r.role === 'leader') return
  if (!promotable(r)) {
    r.info(`is unpromotable and can not campaign`)
    return
  }
  // The active config lags the log until committed changes are applied; campaigning on it could be unsafe.
  for (let i = r.log.applied + 1; i <= r.log.committed; i++) {
    if (r.log.entry(i)?.kind === 'config') {
      r.info(`cannot campaign at term ${r.term} since there are still pending configuration changes to apply`)
      return
    }
  }
  r.info(`is starting a new election at term ${r.term}`)
  campaign(r, kind)
}

/** Becomes (pre-)candidate and asks every voter for its vote. */
export function campaign(r: Raft, kind: CampaignKind): void {
  let term: number
  let type: VoteRequest['type']
  if (kind === 'preElection') {
    r.becomePreCandidate()
    type = 'preVote'
    term = r.term + 1 // the term we would campaign in; ours stays put
  } else {
    r.becomeCandidate()
    type = 'vote'
    term = r.term
  }
  for (const id of r.tracker.voters) {
    if (id === r.id) {
      // A real vote for ourselves counts once it is durable (stepped on advance); a pre-vote at once.
      if (type === 'vote') r.send({ type: 'voteResp', to: r.id, term, reject: false })
      else poll(r, r.id, true)
      if (r.role !== 'preCandidate' && r.role !== 'candidate') return
      if (kind === 'preElection' && r.role !== 'preCandidate') return
      continue
    }
    r.info(`[logterm: ${r.log.lastTerm()}, index: ${r.log.lastIndex()}] sent ${type} request to ${id} at term ${r.term}`)
    r.send({ type, to: id, term, logTerm: r.log.lastTerm(), index: r.log.lastIndex(), transfer: kind === 'transfer' })
  }
}

/** Records a vote and acts on the result: a won pre-vote starts the real election, a won election makes us leader. */
export function poll(r: Raft, from: string, granted: boolean): void {
  const kind = r.role === 'preCandidate' ? 'preVote' : 'vote'
  r.info(`received ${kind} ${granted ? 'grant' : 'rejection'} from ${from} at term ${r.term}`)
  r.tracker.recordVote(from, granted)
  const { granted: g, rejected, result } = r.tracker.tally()
  r.info(`has received ${g} ${kind} grants and ${rejected} rejections`)
  if (result === 'won') {
    if (r.role === 'preCandidate') campaign(r, 'election')
    else {
      r.becomeLeader()
      bcastAppend(r)
    }
  } else if (result === 'lost') {
    r.becomeFollower(r.term, null)
  }
}

/** Answers a (pre-)vote request that passed the term rules of `Raft.step`. */
export function handleVote(r: Raft, m: VoteRequest): void {
  const canVote =
    r.vote === m.from ||
    (r.vote === null && r.leader === null) ||
    (m.type === 'preVote' && m.term > r.term)
  const prefix = `[logterm: ${r.log.lastTerm()}, index: ${r.log.lastIndex()}, vote: ${r.vote ?? 0}]`
  const suffix = `${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${r.term}`
  // Learners vote too: one may have been promoted without knowing it yet.
  if (canVote && r.log.isUpToDate(m.logTerm, m.index)) {
    r.info(`${prefix} cast ${m.type} for ${suffix}`)
    // Answer with the request's term: for a pre-vote ours may be older, and the candidate would ignore it.
    r.send({ type: m.type === 'vote' ? 'voteResp' : 'preVoteResp', to: m.from, term: m.term, reject: false })
    if (m.type === 'vote') {
      r.electionElapsed = 0
      r.vote = m.from
    }
  } else {
    r.info(`${prefix} rejected ${m.type} from ${suffix}`)
    r.send({ type: m.type === 'vote' ? 'voteResp' : 'preVoteResp', to: m.from, reject: true })
  }
}
