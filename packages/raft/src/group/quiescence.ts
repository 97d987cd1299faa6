import type { RaftMessage } from '../internal/message.js'
import type { Ready } from '../internal/ready.js'
import type { GroupReplica } from './group-replica.js'
import type { QuiesceMessage } from './host-protocol.js'

/** One replica's quiescence; read anywhere, written only by Quiescence. */
export class QuietState {
  /** Not ticked: the group sleeps until a message, a request or a liveness check wakes it. */
  quiesced = false
  /** Ticks since something happened (a request, entries, commits, a role change). */
  idleTicks = 0
  /** The leader decided to quiesce at the next heartbeat round. */
  wantQuiesce = false
}

export interface QuiescenceOptions {
  readonly self: string
  /** Idle ticks after which a caught-up leader quiesces its group; 0 = never. */
  readonly quiesceAfterTicks: number
  /** Queues a message for `to` (the host batches per node). */
  send(to: string, group: string, msg: QuiesceMessage): void
  readonly log: ((line: string) => void) | null
}

/**
 * Which replicas of the host sleep. An idle leader whose followers are all
 * caught up (and whose nodes were heard from lately) sends `quiesce` right
 * behind a heartbeat round; a follower whose log and commit match agrees,
 * and both stop ticking. Any activity wakes a replica: a request, a message
 * other than the current leader's heartbeats, or a liveness check that finds
 * the leader's node (or a leader's quorum) silent. Every decision and all
 * the state live here; the host only reports what happened.
 */
export class Quiescence {
  /** Replicas that are ticked: every replica that is not quiesced, in the order they last woke. */
  readonly ticking = new Set<GroupReplica>()

  constructor(private readonly o: QuiescenceOptions) {}

  /** A replica opened: it ticks. */
  add(g: GroupReplica): void {
    this.ticking.add(g)
  }

  remove(g: GroupReplica): void {
    this.ticking.delete(g)
  }

  /**
   * The replica was ticked. Checked once per quiesceAfterTicks idle ticks: a
   * group that cannot quiesce (a follower down) costs little.
   */
  ticked(g: GroupReplica, live: (node: string) => boolean): void {
    const q = g.quiet
    q.idleTicks++
    const after = this.o.quiesceAfterTicks
    if (after > 0 && g.role === 'leader' && !q.wantQuiesce && q.idleTicks % after === 0 && this.canQuiesce(g, live)) q.wantQuiesce = true
  }

  /** The replica handed out `rd` (its messages are queued): activity resets the idle count; a leader may quiesce now. */
  readied(g: GroupReplica, rd: Ready): void {
    const q = g.quiet
    if (rd.entries.length > 0 || rd.committedEntries.length > 0 || rd.snapshot !== null || rd.softState !== null) q.idleTicks = 0
    if (q.wantQuiesce) this.sendQuiesce(g, rd)
    if (q.quiesced) this.sleep(g)
  }

  /** A follower got `quiesce` from `from`. */
  received(g: GroupReplica, from: string, m: QuiesceMessage): void {
    if (!g.quiet.quiesced && this.acceptQuiesce(g, from, m)) this.sleep(g)
  }

  /** Heartbeats of the current leader and their answers are not activity (a quiesced group sleeps on); anything else is. */
  wakesOn(g: GroupReplica, m: RaftMessage): boolean {
    if (m.type === 'heartbeatResp') return g.role !== 'leader' || m.term !== g.term
    if (m.type === 'heartbeat') return m.from !== g.leader || m.term !== g.term
    return true
  }

  /** Something happened: the replica counts idle ticks from zero and ticks again if it slept. */
  wake(g: GroupReplica): void {
    const q = g.quiet
    q.idleTicks = 0
    q.wantQuiesce = false
    if (!q.quiesced) return
    q.quiesced = false
    this.ticking.add(g)
  }

  /**
   * Wakes a quiesced follower whose leader's node went silent (it may
   * campaign), and a quiesced leader that cannot hear a quorum (CheckQuorum
   * then steps it down instead of leading on, unseen).
   */
  checkLiveness(g: GroupReplica, silent: (node: string) => boolean, timeoutMs: number): void {
    if (!g.quiet.quiesced) return
    const voters = g.config.voters
    const lost = g.role === 'leader' ? voters.filter((v) => !silent(v)).length <= voters.length / 2 : g.leader === null || silent(g.leader)
    if (!lost) return
    this.o.log?.(`[${g.id}] ${this.o.self} wakes: ${g.role === 'leader' ? 'no quorum heard' : `leader ${g.leader} silent`} for ${timeoutMs} ms`)
    this.wake(g)
  }

  private sleep(g: GroupReplica): void {
    const q = g.quiet
    q.quiesced = true
    q.wantQuiesce = false
    this.ticking.delete(g)
  }

  /** On the leader: nothing to replicate, every follower caught up and its node recently heard from. */
  private canQuiesce(g: GroupReplica, live: (node: string) => boolean): boolean {
    if (g.role !== 'leader' || g.inflight !== null || g.pendingCount > 0 || g.quiet.idleTicks < this.o.quiesceAfterTicks) return false
    const st = g.raftStatus()
    if (st.role !== 'leader' || st.leadTransferee !== null || st.commit !== st.lastIndex || st.applied !== st.commit) return false
    for (const p of st.progress) {
      if (p.id === this.o.self) continue
      if (p.match !== st.lastIndex || p.state !== 'replicate' || !live(p.id)) return false
    }
    return true
  }

  /** Quiesces right behind a heartbeat round, so each follower has the final commit index before it stops ticking. */
  private sendQuiesce(g: GroupReplica, rd: Ready): void {
    const st = g.raftStatus()
    const followers = st.progress.filter((p) => p.id !== this.o.self).map((p) => p.id)
    const beat = new Set(rd.messages.filter((m) => m.type === 'heartbeat').map((m) => m.to))
    if (st.role !== 'leader' || !followers.every((f) => beat.has(f))) return
    g.quiet.wantQuiesce = false
    if (st.commit !== st.lastIndex || rd.entries.length > 0 || g.pendingCount > 0) return
    const q: QuiesceMessage = { type: 'quiesce', term: st.term, commit: st.commit, lastIndex: st.lastIndex }
    for (const f of followers) this.o.send(f, g.id, { ...q })
    g.quiet.quiesced = true
  }

  /** On a follower: the leader asked to quiesce; agree only if our log and commit match what it saw. */
  private acceptQuiesce(g: GroupReplica, from: string, q: QuiesceMessage): boolean {
    if (g.role !== 'follower' || g.leader !== from || g.inflight !== null) return false
    const st = g.raftStatus()
    return st.role === 'follower' && st.leader === from && st.term === q.term && st.commit === q.commit && st.lastIndex === q.lastIndex
  }
}
