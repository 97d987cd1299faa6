import type { ClusterConfig } from '../storage.js'
import { Progress } from './progress.js'
import { majorityValue, voteResult, type VoteResult } from './quorum.js'

/** The active configuration plus the leader's per-peer progress and a candidate's votes. */
export class Tracker {
  voters: string[] = []
  learners: string[] = []
  /** Every member, voters and learners, sorted: iteration order is deterministic. */
  members: string[] = []
  readonly progress = new Map<string, Progress>()
  readonly votes = new Map<string, boolean>()

  constructor(
    private readonly maxInflightMsgs: number,
    private readonly maxInflightBytes: number,
  ) {}

  config(): ClusterConfig {
    return { voters: [...this.voters], learners: [...this.learners] }
  }

  /** Switches to `config`, keeping progress of members that stay and creating it (at `next`) for new ones. */
  setConfig(config: ClusterConfig, next: number): void {
    this.voters = [...config.voters].sort()
    this.learners = [...config.learners].sort()
    this.members = [...this.voters, ...this.learners].sort()
    for (const id of [...this.progress.keys()]) if (!this.members.includes(id)) this.progress.delete(id)
    for (const id of this.members) {
      const isLearner = this.learners.includes(id)
      const pr = this.progress.get(id)
      if (pr === undefined) {
        const fresh = new Progress(next, this.maxInflightMsgs, this.maxInflightBytes, isLearner)
        // A new member counts as active so CheckQuorum gives it a round to respond.
        fresh.recentActive = true
        this.progress.set(id, fresh)
      } else {
        pr.isLearner = isLearner
      }
    }
  }

  /** Replaces every progress with a fresh one (on a leadership change). */
  resetProgress(next: number): void {
    for (const id of this.members) {
      this.progress.set(id, new Progress(next, this.maxInflightMsgs, this.maxInflightBytes, this.learners.includes(id)))
    }
  }

  isVoter(id: string): boolean {
    return this.voters.includes(id)
  }

  isSingleton(): boolean {
    return this.voters.length === 1
  }

  /** Highest index replicated on a majority of voters. */
  committed(): number {
    return majorityValue(this.voters, (id) => this.progress.get(id)?.match ?? 0)
  }

  /** Highest read sequence acknowledged by a majority of voters (self counts with `selfSeq`). */
  readAcked(self: string, selfSeq: number): number {
    return majorityValue(this.voters, (id) => (id === self ? selfSeq : (this.progress.get(id)?.readAck ?? 0)))
  }

  /** True if a majority of voters was heard from recently. */
  quorumActive(self: string): boolean {
    return majorityValue(this.voters, (id) => (id === self || this.progress.get(id)?.recentActive ? 1 : 0)) === 1
  }

  resetVotes(): void {
    this.votes.clear()
  }

  recordVote(id: string, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted)
  }

  tally(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0
    let rejected = 0
    for (const [id, v] of this.votes) {
      if (!this.voters.includes(id)) continue
      if (v) granted++
      else rejected++
    }
    return { granted, rejected, result: voteResult(this.voters, this.votes) }
  }
}
