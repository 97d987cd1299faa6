import type { DowningStrategy } from './downing.js'
import { isDefaultInfo, parseMemberInfo } from './member-info.js'
import type { MemberInfo } from './member-info.js'
import type { MemberRecord, MemberStatus } from './member.js'
import { Membership } from './membership.js'
import { BadGossip, membershipFromWire, membershipToWire } from './membership-wire.js'
import type { DaemonMessage, GossipState, GossipStatus, JoinRequest } from './messages.js'
import { monitoredNodes } from './monitor-ring.js'

/** A node to contact when joining. */
export interface SeedNode {
  readonly node: string
  readonly address: string
}

export interface CoreConfig {
  readonly self: { readonly node: string; readonly address: string; readonly incarnation: number; readonly info: MemberInfo }
  readonly seeds: readonly SeedNode[]
  /** Each node heartbeats this many reachable ring successors. */
  readonly monitoredBy: number
  readonly stableAfterMs: number
  readonly seedTimeoutMs: number
  readonly joinRetryMs: number
  readonly tombstoneMaxAgeMs: number
  readonly maxMembers: number
  readonly downing: DowningStrategy
  readonly random: () => number
}

export type Phase = 'idle' | 'joining' | 'member' | 'terminal'
export type TerminalReason = 'down' | 'removed' | 'stopped'

/** A message for another node's daemon. */
export interface Send {
  readonly to: string
  readonly msg: DaemonMessage
}

/** Judges whether a monitored node answers heartbeats in time. */
export interface Liveness {
  isAvailable(node: string, nowMs: number): boolean
}

const GOSSIP_STATUSES: ReadonlySet<MemberStatus> = new Set(['joining', 'up', 'leaving', 'exiting'])
/** How often gossip goes to a node that has not seen the latest state rather than to anyone. */
const PREFER_UNSEEN = 0.8

/**
 * The cluster daemon's logic without I/O: messages and ticks in, messages to
 * send out (every method returns them). The daemon actor owns the timers,
 * the transport and the failure detectors; this owns membership, joining,
 * gossip, leader actions and downing decisions.
 */
export class ClusterCore {
  phase: Phase = 'idle'
  terminalReason: TerminalReason | null = null
  readonly state = new Membership()
  private out: Send[] = []
  private startedAtMs = 0
  private lastJoinAtMs = -Infinity
  private stableKey = ''
  private stableSinceMs = 0
  /** Members whose gossip has lacked this incarnation since then (ms); a state that knows it clears the entry. */
  private readonly lackedBy = new Map<string, number>()

  constructor(private readonly config: CoreConfig) {}

  get self(): string {
    return this.config.self.node
  }

  start(nowMs: number): Send[] {
    if (this.phase !== 'idle') return []
    this.phase = 'joining'
    this.startedAtMs = nowMs
    this.maybeJoin(nowMs)
    return this.flush()
  }

  /** Periodic work: join retries, reachability, leader actions, downing, one gossip. */
  tick(nowMs: number, liveness: Liveness): Send[] {
    if (this.phase === 'joining') this.maybeJoin(nowMs)
    if (this.phase !== 'member') return this.flush()
    if (this.state.expireTombstones(nowMs, this.config.tombstoneMaxAgeMs)) this.touched()
    this.updateReachability(nowMs, liveness)
    this.trackStability(nowMs)
    const leader = this.state.leader(this.self) === this.self
    if (leader && this.state.converged(this.self)) this.leaderActions(nowMs)
    if (leader) this.maybeDown(nowMs)
    this.checkSelf()
    if (this.phase === 'member') this.gossipOnce()
    return this.flush()
  }

  /** A message from another daemon. Throws BadGossip for malformed gossip (nothing changes then). */
  receive(msg: DaemonMessage, nowMs: number): Send[] {
    if (this.phase === 'terminal') return []
    // A peer's payload is whatever its CBOR decoded to; the handlers below read its fields.
    if (msg.type !== 'join' && (typeof msg.payload !== 'object' || msg.payload === null)) throw new BadGossip(`${msg.type} is not an object`)
    switch (msg.type) {
      case 'join':
        this.onJoin(msg.payload, nowMs)
        break
      case 'welcome':
      case 'gossip':
        this.onGossip(msg.payload, nowMs)
        break
      case 'status':
        this.onStatus(msg.payload)
        break
    }
    this.checkSelf()
    return this.flush()
  }

  /** Graceful leave: leaving → exiting → removed (by the leader). */
  leave(): Send[] {
    if (this.phase === 'idle' || this.phase === 'joining') this.becomeTerminal('removed')
    else if (this.phase === 'member' && this.state.setStatus(this.self, 'leaving')) this.touched()
    return this.flush()
  }

  /** Marks `node` down at its current incarnation (any member may do this). */
  down(node: string): Send[] {
    if (this.phase === 'member' && this.state.setStatus(node, 'down')) this.touched()
    this.checkSelf()
    return this.flush()
  }

  /** Stops taking part without leaving (others will find this node unreachable). */
  stop(): void {
    if (this.phase !== 'terminal') {
      this.phase = 'terminal'
      this.terminalReason = 'stopped'
    }
  }

  /** Members this node heartbeats: its ring successors plus those it currently finds unreachable. */
  heartbeatTargets(): MemberRecord[] {
    if (this.phase !== 'member') return []
    const eligible = this.state.members().filter((m) => m.node !== this.self && GOSSIP_STATUSES.has(m.status))
    const ring = monitoredNodes(this.self, eligible.map((m) => m.node), this.config.monitoredBy, this.state.unreachable(this.self))
    const nodes = new Set(ring)
    for (const s of this.state.reachability.observedBy(this.self)) nodes.add(s.node)
    return eligible.filter((m) => nodes.has(m.node))
  }

  // ---- joining ---------------------------------------------------------

  private maybeJoin(nowMs: number): void {
    const others = this.config.seeds.filter((s) => s.node !== this.self)
    const firstSeed = this.config.seeds[0]?.node === this.self
    if (others.length === 0 || (firstSeed && nowMs - this.startedAtMs >= this.config.seedTimeoutMs)) return this.joinSelf()
    if (nowMs - this.lastJoinAtMs < this.config.joinRetryMs) return
    this.lastJoinAtMs = nowMs
    const { node, address, incarnation, info } = this.config.self
    const payload: JoinRequest = { node, address, incarnation }
    if (!isDefaultInfo(info)) Object.assign(payload, { appVersion: info.appVersion, roles: [...info.roles], metadata: { ...info.metadata }, wireMin: info.wire.min, wireMax: info.wire.max })
    for (const seed of others) this.send(seed.node, { type: 'join', payload })
  }

  /** This node's record at `status`. */
  private selfRecord(status: MemberStatus): MemberRecord {
    const { node, address, incarnation, info } = this.config.self
    return isDefaultInfo(info) ? { node, address, incarnation, status } : { node, address, incarnation, status, info }
  }

  /** No seed answered (or there are none): this node starts a new cluster. */
  private joinSelf(): void {
    this.state.put(this.selfRecord('joining'))
    this.touched()
    this.phase = 'member'
  }

  private onJoin(req: JoinRequest, nowMs: number): void {
    if (this.phase !== 'member' || !validJoin(req) || req.node === this.self) return
    const info = joinInfo(req)
    if (info === null) return
    const tomb = this.state.tombstoneOf(req.node)
    if (tomb !== undefined && req.incarnation <= tomb.incarnation) return
    const existing = this.state.get(req.node)
    if (existing !== undefined && existing.incarnation > req.incarnation) return
    if (existing === undefined && this.state.size >= this.config.maxMembers) return
    if (existing === undefined || existing.incarnation < req.incarnation) {
      // A restarted node replaces its old incarnation, which can never come back.
      if (existing !== undefined) this.state.remove(req.node, existing.incarnation, nowMs)
      const record: MemberRecord = { node: req.node, address: req.address, incarnation: req.incarnation, status: 'joining' }
      this.state.put(isDefaultInfo(info) ? record : { ...record, info })
      this.touched()
    }
    this.send(req.node, { type: 'welcome', payload: { from: this.self, gossip: membershipToWire(this.state) } })
  }

  // ---- gossip ----------------------------------------------------------

  private onGossip(msg: GossipState, nowMs: number): void {
    const theirs = membershipFromWire(msg.gossip)
    const me = theirs.get(this.self)
    // Only this incarnation counts: a tombstone of an earlier one says nothing about
    // this node having joined (it would stop sending joins and never be admitted).
    const myIncarnation = this.config.self.incarnation
    const tomb = theirs.tombstoneOf(this.self)
    const knowsMe = (me !== undefined && me.incarnation >= myIncarnation) || (tomb !== undefined && tomb.incarnation >= myIncarnation)
    if (typeof msg.from !== 'string') return
    if (!knowsMe) return this.onGossipWithoutMe(msg.from, theirs, nowMs)
    if (this.phase === 'joining') this.phase = 'member'
    this.lackedBy.delete(msg.from)
    const result = this.state.merge(theirs, this.self, this.config.tombstoneMaxAgeMs, nowMs)
    if (result.theyLack) this.send(msg.from, { type: 'gossip', payload: { from: this.self, gossip: membershipToWire(this.state) } })
    else if (hasMore(this.state.seen, theirs.seen)) this.sendStatus(msg.from)
  }

  /**
   * Gossip from a peer whose state has no record of this incarnation (not
   * even a tombstone). From a peer this node counts as a member, that is
   * either a peer that has not heard of this node yet (it will, from the
   * others), or a cluster that moved on without it: this node was admitted
   * by a node that failed before telling the rest, or kept a cluster of its
   * own through a partition. When the same peer still says so after
   * stableAfterMs, this node goes down like a downed node (selfDown); a
   * restart rejoins through the seeds with a new incarnation. Its state is
   * not pushed to that peer: decisions made apart from the cluster must not
   * flow into it.
   */
  private onGossipWithoutMe(from: string, theirs: Membership, nowMs: number): void {
    if (this.phase !== 'member') return
    const peer = this.state.get(from)
    const peerThere = theirs.get(from)
    if (peer === undefined || peer.status === 'down' || peerThere === undefined || peerThere.incarnation < peer.incarnation) return
    const since = this.lackedBy.get(from)
    if (since === undefined) {
      for (const node of this.lackedBy.keys()) if (this.state.get(node) === undefined) this.lackedBy.delete(node)
      this.lackedBy.set(from, nowMs)
    } else if (nowMs - since >= this.config.stableAfterMs) {
      this.state.setStatus(this.self, 'down') // its own view says so too, as for a downed node
      this.becomeTerminal('down', false)
    }
  }

  private onStatus(msg: GossipStatus): void {
    if (this.phase !== 'member' || typeof msg.from !== 'string' || !Array.isArray(msg.seen)) return
    // A sender this state does not list is answered too: that is how a node cut off from the cluster learns it.
    if (msg.digest !== this.state.digest()) {
      this.send(msg.from, { type: 'gossip', payload: { from: this.self, gossip: membershipToWire(this.state) } })
      return
    }
    this.lackedBy.delete(msg.from) // same content: it knows this node
    const theirSeen = new Set(msg.seen.filter((s): s is string => typeof s === 'string' && this.state.get(s) !== undefined))
    for (const s of theirSeen) this.state.seen.add(s)
    this.state.touch(this.self)
    if (hasMore(this.state.seen, theirSeen)) this.sendStatus(msg.from)
  }

  private gossipOnce(): void {
    const unreachable = this.state.unreachable(this.self)
    const peers = this.state.members().filter((m) => m.node !== this.self && GOSSIP_STATUSES.has(m.status) && !unreachable.has(m.node))
    if (peers.length === 0) return
    const unseen = peers.filter((m) => !this.state.seen.has(m.node))
    const pool = unseen.length > 0 && this.config.random() < PREFER_UNSEEN ? unseen : peers
    this.sendStatus(pool[Math.floor(this.config.random() * pool.length) % pool.length].node)
  }

  private sendStatus(to: string): void {
    this.send(to, { type: 'status', payload: { from: this.self, digest: this.state.digest(), seen: [...this.state.seen].sort() } })
  }

  // ---- failure detection and downing ----------------------------------

  private updateReachability(nowMs: number, liveness: Liveness): void {
    const { node: self, incarnation } = this.config.self
    const observed = new Set(this.state.reachability.observedBy(self).map((s) => s.node))
    let changed = false
    for (const m of this.heartbeatTargets()) {
      const available = liveness.isAvailable(m.node, nowMs)
      if (!available && !observed.has(m.node)) changed = this.state.observeUnreachable(self, incarnation, m.node) || changed
      else if (available && observed.has(m.node)) changed = this.state.observeReachable(self, incarnation, m.node) || changed
    }
    if (changed) this.touched()
  }

  /** Unreachability counts as stable once neither it nor the member set changed for stableAfterMs. */
  private trackStability(nowMs: number): void {
    const live = this.state.members().filter((m) => m.status !== 'down')
    const unreachable = this.state.unreachable(this.self)
    const key = live.map((m) => `${m.node}${unreachable.has(m.node) ? '!' : ''}`).join(',')
    if (key !== this.stableKey) {
      this.stableKey = key
      this.stableSinceMs = nowMs
    }
  }

  private maybeDown(nowMs: number): void {
    const unreachable = this.state.unreachable(this.self)
    const suspects = this.state.members().filter((m) => m.status !== 'down' && unreachable.has(m.node))
    if (suspects.length === 0 || nowMs - this.stableSinceMs < this.config.stableAfterMs) return
    const victims = this.config.downing({ self: this.self, members: this.state.members(), unreachable })
    let changed = false
    for (const node of victims) changed = this.state.setStatus(node, 'down') || changed
    if (changed) this.touched()
  }

  // ---- leader ----------------------------------------------------------

  /** On convergence: joining → up, leaving → exiting, exiting and down → removed. */
  private leaderActions(nowMs: number): void {
    const unreachable = this.state.unreachable(this.self)
    const removed: string[] = []
    let changed = false
    for (const m of this.state.members()) {
      if (m.status === 'joining' && !unreachable.has(m.node)) changed = this.state.setStatus(m.node, 'up') || changed
      else if (m.status === 'leaving' && !unreachable.has(m.node)) changed = this.state.setStatus(m.node, 'exiting') || changed
      else if (m.status === 'exiting' || m.status === 'down') {
        changed = this.state.remove(m.node, m.incarnation, nowMs) || changed
        removed.push(m.node)
      }
    }
    if (!changed) return
    this.touched()
    // A removed node is no longer gossiped to: tell it once, so a leaving node learns it is done.
    const gossip = membershipToWire(this.state)
    for (const node of removed) if (node !== this.self) this.send(node, { type: 'gossip', payload: { from: this.self, gossip } })
  }

  // ---- self ------------------------------------------------------------

  /** Notices that this node was downed, removed or replaced by a newer incarnation. */
  private checkSelf(): void {
    if (this.phase !== 'member') return
    const me = this.state.get(this.self)
    const tomb = this.state.tombstoneOf(this.self)
    if ((tomb !== undefined && tomb.incarnation >= this.config.self.incarnation) || (me !== undefined && me.incarnation > this.config.self.incarnation)) {
      this.becomeTerminal('removed')
    } else if (me?.status === 'down') {
      this.becomeTerminal('down')
    }
  }

  /** `announce`: tell the members this node reaches that it is down (not when they never counted it). */
  private becomeTerminal(reason: TerminalReason, announce = true): void {
    const wasMember = this.phase === 'member'
    this.phase = 'terminal'
    this.terminalReason = reason
    if (reason !== 'down' || !wasMember || !announce) return
    // Tell this side that it is down: whoever decided it may be the only one that knows.
    const unreachable = this.state.unreachable(this.self)
    const gossip = membershipToWire(this.state)
    for (const m of this.state.members()) {
      if (m.node !== this.self && !unreachable.has(m.node)) this.send(m.node, { type: 'gossip', payload: { from: this.self, gossip } })
    }
  }

  private touched(): void {
    this.state.touch(this.self)
  }

  private send(to: string, msg: DaemonMessage): void {
    this.out.push({ to, msg })
  }

  private flush(): Send[] {
    const out = this.out
    this.out = []
    return out
  }
}

function validJoin(req: JoinRequest): boolean {
  return (
    typeof req === 'object' &&
    req !== null &&
    typeof req.node === 'string' &&
    req.node.length > 0 &&
    req.node.length <= 256 &&
    typeof req.address === 'string' &&
    req.address.length <= 1024 &&
    Number.isSafeInteger(req.incarnation) &&
    req.incarnation >= 0
  )
}

/** The joiner's info, or null when it is malformed or over the bounds (the join is ignored, as any malformed join). */
function joinInfo(req: JoinRequest): MemberInfo | null {
  try {
    return parseMemberInfo(req, (m) => {
      throw new Error(m)
    })
  } catch {
    return null
  }
}

/** `a` holds an element `b` lacks. */
function hasMore(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  for (const x of a) if (!b.has(x)) return true
  return false
}
