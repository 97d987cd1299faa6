import { isTroupeError, type ActorRef, type DeferredReply } from '@troupe/runtime'
import { applyConfChange, type ConfChange } from '../internal/conf-change.js'
import { RaftError } from '../internal/errors.js'
import type { RaftGroupErrorCode } from './group-error.js'
import type { ClusterConfig } from '../storage.js'
import { encodeCommand } from './command-codec.js'
import { GroupProxy } from './group-proxy.js'
import { GroupReplica } from './group-replica.js'
import {
  errorReply, okReply, requestProblem, type ConfChangeRequest, type HostProtocol, type HostReply, type ProposeBatchRequest, type ProposeItem, type ProposeRequest,
  type ReadRequest, type Reply, type RequestBase, type TransferRequest,
} from './host-protocol.js'
import { handoffTarget, type LeadershipHandoff } from './leadership-handoff.js'

/** What the router needs from its host. */
export interface RouterHost {
  readonly self: string
  readonly maxPendingRequests: number
  now(): number
  find(id: string): GroupReplica | GroupProxy | undefined
  /** Every group open on this node. */
  groups(): Iterable<GroupReplica | GroupProxy>
  /** Takes over answering the message being handled. */
  deferReply(): DeferredReply<HostReply>
  /** The replica got work: wake it if quiesced, and drain after this turn. */
  activate(g: GroupReplica): void
  /** Wakes a quiesced replica (it ticks again). */
  wake(g: GroupReplica): void
  peer(node: string): ActorRef<HostProtocol>
}

type Kind = 'propose' | 'proposeBatch' | 'read' | 'confChange' | 'transfer'

/** Where an answer goes: the message's deferred reply, or one item's slot in a batch reply. */
type Answer = Pick<DeferredReply<HostReply>, 'resolve'>

/**
 * Client requests on a host: served here when this node leads the group
 * (reads: on any member, through ReadIndex), otherwise forwarded once to
 * the leader this node knows of, or answered with a leader hint so the
 * handle retries. Every reply is a value (HostReply), so codes and hints
 * survive the wire.
 */
export class RequestRouter {
  /** Requests held on this node (waiting in a replica or forwarded), bounded by maxPendingRequests. */
  waiting = 0
  private readSeq = 0

  constructor(
    private readonly host: RouterHost,
    /** Read contexts start with it: unique per host incarnation. */
    private readonly readPrefix: string,
  ) {}

  propose(p: ProposeRequest): void {
    const g = this.requestTarget('propose', p)
    if (g === null) return
    if (g instanceof GroupProxy) return this.viaProxy(g, 'propose', p)
    const reply = this.host.deferReply()
    const hint = this.proposeHere(g, p, reply)
    if (hint !== undefined) this.forwardOr(g, reply, hint, 'propose', p)
  }

  /**
   * A handle's proposals of one turn: the leader proposes each as its own entry and answers once, when
   * all are answered; elsewhere the batch is forwarded as one message, as a single proposal would be.
   */
  proposeBatch(p: ProposeBatchRequest): void {
    const g = this.requestTarget('proposeBatch', p)
    if (g === null) return
    if (g instanceof GroupProxy) return this.viaProxy(g, 'proposeBatch', p, p.items.length)
    const reply = this.host.deferReply()
    if (g.role !== 'leader') return this.forwardOr(g, reply, g.leader, 'proposeBatch', p, p.items.length)
    const items = p.items
    const replies = new Array<HostReply>(items.length)
    let left = items.length
    const self = this.host.self
    // Items this replica could not propose (it stopped leading meanwhile) go on together, as one batch.
    let rest: number[] | null = null
    let hint: string | null = null
    for (let k = 0; k < items.length; k++) {
      const slot = {
        resolve: (r: HostReply) => {
          replies[k] = r
          if (--left === 0) reply.resolve(okReply(replies, self))
        },
      }
      const h = this.proposeHere(g, items[k]!, slot)
      if (h === undefined) continue
      ;(rest ??= []).push(k)
      hint = h
    }
    if (rest === null) return
    const sub = rest
    const subBatch: ProposeBatchRequest = { group: p.group, timeoutMs: p.timeoutMs, forwarded: p.forwarded, items: sub.map((k) => items[k]!) }
    const subReply = {
      resolve: (r: HostReply) => {
        const each = r.ok && Array.isArray(r.value) && r.value.length === sub.length ? (r.value as HostReply[]) : null
        for (let j = 0; j < sub.length; j++) {
          replies[sub[j]!] = each !== null ? each[j]! : r
          if (--left === 0) reply.resolve(okReply(replies, self))
        }
      },
    }
    this.forwardOr(g, subReply, hint, 'proposeBatch', subBatch, sub.length)
  }

  /** Proposes `p` here if this replica leads; otherwise returns the leader it knows of (or null), for forwarding. */
  private proposeHere(g: GroupReplica, p: ProposeItem, reply: Answer): string | null | undefined {
    if (g.role !== 'leader') return g.leader
    if (this.waiting >= this.host.maxPendingRequests) return void reply.resolve(this.overloaded())
    let data: Uint8Array
    try {
      data = encodeCommand({ clientId: p.clientId, seq: p.seq, ackedBelow: p.ackedBelow, timeMs: Math.floor(this.host.now()), command: p.command, established: p.established })
    } catch (err) {
      return void reply.resolve(errorReply('INVALID_ARGUMENT', `command cannot be encoded: ${String(err)}`))
    }
    try {
      const h = g.propose(data)
      g.addProposal(h.index, h.term, this.hold(reply), this.host.now() + p.timeoutMs)
      return void this.host.activate(g)
    } catch (err) {
      if (!(err instanceof RaftError)) throw err
      if (err.code !== 'NOT_LEADER') return void reply.resolve(refused('propose', err, this.host.self))
      return err.leaderHint
    }
  }

  read(p: ReadRequest): void {
    const g = this.requestTarget('read', p)
    if (g === null) return
    if (g instanceof GroupProxy) return this.viaProxy(g, 'read', p)
    const reply = this.host.deferReply()
    if (this.waiting >= this.host.maxPendingRequests) return reply.resolve(this.overloaded())
    const ctx = this.readPrefix + (++this.readSeq).toString(36)
    try {
      // On a follower the core asks the leader for its commit index and serves the read here once applied.
      g.readIndex(ctx)
    } catch (err) {
      if (!(err instanceof RaftError)) throw err
      if (err.code === 'NOT_LEADER') return this.forwardOr(g, reply, err.leaderHint, 'read', p)
      return reply.resolve(refused('read', err, g.leader))
    }
    g.addRead(ctx, p.query, this.hold(reply), this.host.now() + p.timeoutMs)
    this.host.activate(g)
  }

  confChange(p: ConfChangeRequest): void {
    const g = this.requestTarget('confChange', p)
    if (g === null) return
    if (g instanceof GroupProxy) return this.viaProxy(g, 'confChange', p)
    const reply = this.host.deferReply()
    if (g.role !== 'leader') return this.forwardOr(g, reply, g.leader, 'confChange', p)
    const change: ConfChange = { type: p.change.type, node: p.change.node }
    const config = g.coreConfig()
    // Retries of a change that took effect succeed: membership calls are idempotent.
    if (satisfied(config, change)) return reply.resolve(okReply(null, this.host.self))
    const next = applyConfChange(config, change)
    if (typeof next === 'string') return reply.resolve(errorReply('CONF_CHANGE_REJECTED', next))
    try {
      const h = g.proposeConfChange(change)
      g.addProposal(h.index, h.term, this.hold(reply), this.host.now() + p.timeoutMs)
      this.host.activate(g)
    } catch (err) {
      if (!(err instanceof RaftError)) throw err
      if (err.code === 'NOT_LEADER') return this.forwardOr(g, reply, err.leaderHint, 'confChange', p)
      reply.resolve(refused('confChange', err, this.host.self))
    }
  }

  transfer(p: TransferRequest): void {
    const g = this.requestTarget('transfer', p)
    if (g === null) return
    if (g instanceof GroupProxy) return this.viaProxy(g, 'transfer', p)
    const reply = this.host.deferReply()
    if (g.leader === p.to) return reply.resolve(okReply(null, p.to))
    if (g.role !== 'leader') return this.forwardOr(g, reply, g.leader, 'transfer', p)
    try {
      g.transferLeadership(p.to)
    } catch (err) {
      if (!(err instanceof RaftError)) throw err
      if (err.code === 'NOT_LEADER') return this.forwardOr(g, reply, err.leaderHint, 'transfer', p)
      return reply.resolve(refused('transfer', err, null))
    }
    g.addTransfer(p.to, this.hold(reply), this.host.now() + p.timeoutMs)
    this.host.activate(g)
  }

  /**
   * Hands every group this node leads to its most up-to-date other voter and
   * answers once each has moved, failed, or `timeoutMs` passed (a shutdown
   * step: the groups keep serving through a new leader instead of waiting
   * for an election after this node is gone).
   */
  transferAway(p: { timeoutMs: number }): void {
    const reply = this.host.deferReply()
    if (!(Number.isFinite(p?.timeoutMs) && p.timeoutMs > 0)) return reply.resolve(errorReply('INVALID_ARGUMENT', 'timeoutMs must be > 0'))
    const out: LeadershipHandoff = { moved: [], kept: [], failed: [] }
    let open = 1
    const settle = () => {
      if (--open === 0) reply.resolve(okReply(out, null))
    }
    for (const g of this.host.groups()) {
      if (!(g instanceof GroupReplica) || g.stopped || g.role !== 'leader') continue
      const to = handoffTarget(g.raftStatus())
      if (to === null) {
        out.kept.push(g.id)
        continue
      }
      try {
        g.transferLeadership(to)
      } catch (err) {
        if (!(err instanceof RaftError)) throw err
        out.failed.push({ group: g.id, to, code: err.code, message: err.message })
        continue
      }
      open++
      const answer = this.hold({
        resolve: (r: HostReply) => {
          if (r.ok) out.moved.push({ group: g.id, to })
          else out.failed.push({ group: g.id, to, code: r.code, message: r.message })
          settle()
        },
      })
      g.addTransfer(to, answer, this.host.now() + p.timeoutMs)
      this.host.activate(g)
    }
    settle()
  }

  private requestTarget(kind: Kind, p: RequestBase): GroupReplica | GroupProxy | null {
    const problem = requestProblem(kind, p)
    const g = problem === null ? this.host.find(p.group) : undefined
    if (g !== undefined) return g
    const reply = this.host.deferReply()
    if (problem !== null) reply.resolve(errorReply('INVALID_ARGUMENT', `malformed ${kind} request: ${problem}`))
    else reply.resolve(errorReply('GROUP_STOPPED', `group ${p.group} is not open on ${this.host.self}`, null, p.forwarded))
    return null
  }

  /** `count`: the requests `p` carries (a batch's items), all held here until the reply. */
  private viaProxy(g: GroupProxy, kind: Kind, p: RequestBase, count = 1): void {
    const reply = this.host.deferReply()
    if (this.waiting >= this.host.maxPendingRequests) return reply.resolve(this.overloaded())
    const held = this.hold(reply, count)
    const target = g.target()
    this.forward(target, kind, { ...p, forwarded: false }, (r) => {
      g.learn(target, r)
      held(r)
    })
  }

  /** Forwards to the leader once; a request that was forwarded already is answered with the hint instead. */
  private forwardOr(g: GroupReplica, reply: Answer, leader: string | null, kind: Kind, p: RequestBase, count = 1): void {
    if (p.forwarded || leader === null || leader === this.host.self) {
      const why = leader === null ? `${this.host.self} knows no leader of group ${p.group}` : `${this.host.self} is not the leader of group ${p.group}`
      return reply.resolve(errorReply('NOT_LEADER', why, leader, true))
    }
    if (this.waiting >= this.host.maxPendingRequests) return reply.resolve(this.overloaded())
    // A quiesced follower wakes: if the leader is gone, its election clock is running already.
    this.host.wake(g)
    const held = this.hold(reply, count)
    const done: Reply = (r) => {
      g.forwards.delete(done)
      held(r)
    }
    g.forwards.add(done)
    this.forward(leader, kind, { ...p, forwarded: true }, done)
  }

  private forward(node: string, kind: Kind, p: RequestBase, done: (r: HostReply) => void): void {
    let ask: Promise<unknown>
    try {
      ask = this.host.peer(node).ask(kind, p as never, { timeoutMs: p.timeoutMs })
    } catch (err) {
      return done(errorReply('NOT_LEADER', `cannot reach ${node}: ${String(err)}`, null, true))
    }
    ask.then(
      (r) => done(isHostReply(r) ? r : errorReply('NOT_LEADER', `malformed reply from ${node}`, null, true)),
      (err) => {
        if (isTroupeError(err, 'ASK_TIMEOUT')) done(errorReply('TIMEOUT', `no answer from ${node} within ${p.timeoutMs} ms`, node, true))
        else done(errorReply('NOT_LEADER', `forwarding to ${node} failed: ${String(err)}`, null, true))
      },
    )
  }

  /** Counts a request held here (by a replica, or forwarded) until it is answered. */
  private hold(reply: Answer, count = 1): Reply {
    this.waiting += count
    let done = false
    return (r) => {
      if (done) return
      done = true
      this.waiting -= count
      reply.resolve(r)
    }
  }

  private overloaded(): HostReply {
    return errorReply('OVERLOADED', `${this.waiting} requests are waiting on ${this.host.self} (maxPendingRequests)`, null, false)
  }

}

/**
 * The core's refusals (other than NOT_LEADER, which forwards) in the group's vocabulary, per request:
 * the code the client sees, and whether its handle resends before the deadline (`HostReply.retry`).
 */
const REFUSALS: Record<'propose' | 'read' | 'confChange' | 'transfer', { code: RaftGroupErrorCode; retry: boolean }> = {
  /** PROPOSAL_DROPPED: the uncommitted-bytes cap, a leadership transfer under way, or this node was removed. */
  propose: { code: 'OVERLOADED', retry: true },
  /** READ_DROPPED: too many reads wait for their index. */
  read: { code: 'OVERLOADED', retry: true },
  /** Another change (or the term's first entry) is not applied yet, or proposals are dropped: try again shortly. */
  confChange: { code: 'CONF_CHANGE_REJECTED', retry: true },
  /** TRANSFER_REJECTED: the target is not a voter. */
  transfer: { code: 'TRANSFER_REJECTED', retry: false },
}

function refused(kind: keyof typeof REFUSALS, err: RaftError, leader: string | null): HostReply {
  const r = REFUSALS[kind]
  return errorReply(r.code, err.message, leader, r.retry)
}

function satisfied(config: ClusterConfig, cc: ConfChange): boolean {
  const voter = config.voters.includes(cc.node)
  const learner = config.learners.includes(cc.node)
  if (cc.type === 'addVoter') return voter
  if (cc.type === 'addLearner') return learner
  return !voter && !learner
}

function isHostReply(r: unknown): r is HostReply {
  if (typeof r !== 'object' || r === null) return false
  const x = r as Record<string, unknown>
  if (x.ok === true) return true
  return x.ok === false && typeof x.code === 'string' && typeof x.message === 'string' && typeof x.retry === 'boolean'
}

