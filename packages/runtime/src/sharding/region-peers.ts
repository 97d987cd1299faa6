import type { ActorRef } from '../actor-ref.js'
import { isTroupeError } from '../errors.js'
import { AllocationCache, keyOf, normalizeMembers } from './allocation.js'
import type { Allocation } from './allocation.js'
import { REGION_PATH, isReleasedMsg, isStatusMsg } from './region-protocol.js'
import type { ReleasedMsg, StatusMsg } from './region-protocol.js'
import type { RegionContext } from './region-context.js'

/** Regions of non-members remembered at most (a joiner's status may come before the view holds it). */
const MAX_STRANGER_REGIONS = 1024

/** What this node knows of a peer region, from its last status. */
interface PeerStatus {
  readonly table: Allocation | null
  readonly handingOff: Set<number>
  /**
   * The peer's view holds this node, so the peer tells this node of every
   * change of its view (FIFO link): only then does its status stay current.
   */
  readonly seesMe: boolean
}

/**
 * What a region knows of the others: its own view (members and the shard
 * table they give), each peer's last status (its table and the shards it
 * still hands off), and the recently departed. It decides when a shard may
 * start here or stop here, and sends this node's statuses and releases.
 */
export class RegionPeers {
  members: string[] = []
  table: Allocation | null = null
  /** This node's own view has held it (it is no longer joining). */
  upOnce = false
  private viewKey: string | null = null
  private readonly peers = new Map<string, PeerStatus>()
  /**
   * Nodes that left this node's view, until when they still count: they keep
   * getting statuses and releases, and the shards a departed node reported
   * handing off (it left its own view: a leave or a downing) stay blocked
   * until it releases them or this time passes (it may have crashed).
   */
  private readonly departed = new Map<string, number>()
  /** The departed nodes that were leaving gracefully when they left this node's view. */
  private readonly leavers = new Set<string>()
  private readonly regionRefs = new Map<string, ActorRef>()
  /**
   * Nodes whose region has sent this one a status, kept across view changes
   * (unlike `peers`): a message goes to another node's region only once that
   * region is known to exist. Forgotten when an ask finds no region there,
   * and when a departed node's time passes; strangers (a joiner's status
   * may come before its membership) are kept up to MAX_STRANGER_REGIONS.
   */
  private readonly regionsSeen = new Set<string>()
  private readonly allocations: AllocationCache

  constructor(private readonly rc: RegionContext) {
    this.allocations = new AllocationCache(rc.config.shards)
  }

  /** Takes the membership view's current up members; false if they did not change. */
  applyView(): boolean {
    const rc = this.rc
    const members = normalizeMembers(rc.view.upMembers())
    const key = keyOf(members)
    if (key === this.viewKey) return false
    const untilMs = rc.now() + 2 * rc.config.handoffTimeoutMs
    for (const node of this.members) {
      if (members.includes(node) || node === rc.self) continue
      this.departed.set(node, untilMs)
      if (rc.view.isLeaving?.(node) === true) this.leavers.add(node)
      else this.leavers.delete(node)
    }
    for (const node of members) {
      this.departed.delete(node)
      this.leavers.delete(node)
    }
    this.viewKey = key
    this.members = members
    if (members.includes(rc.self)) this.upOnce = true
    this.table = this.allocations.get(members)
    return true
  }

  /** Forgets the statuses of nodes that are neither members nor recently departed. */
  forgetStrangers(): void {
    for (const node of this.peers.keys()) if (!this.members.includes(node) && !this.departed.has(node)) this.peers.delete(node)
  }

  /** Forgets the departed nodes whose time has passed. */
  expireDeparted(nowMs: number): void {
    for (const [node, untilMs] of this.departed) {
      if (untilMs > nowMs) continue
      this.departed.delete(node)
      this.leavers.delete(node)
      this.peers.delete(node)
      // Gone for good as far as this node knows: if it comes back, its region reports again.
      if (!this.members.includes(node)) this.regionsSeen.delete(node)
    }
  }

  /** A peer's status arrived; true if it was taken (shards may move on). */
  onStatus(payload: unknown): boolean {
    const rc = this.rc
    const shards = (payload as Partial<StatusMsg> | null)?.shards
    if (typeof shards === 'number' && shards !== rc.config.shards) {
      rc.system.deadLetter(REGION_PATH, 'status', payload, 'shard-count-mismatch')
      return false
    }
    if (!isStatusMsg(payload, rc.config.shards)) {
      rc.system.deadLetter(REGION_PATH, 'status', payload, 'malformed-status')
      return false
    }
    if (payload.node === rc.self) return false
    const known = rc.incarnationOf(payload.node)
    // A late status from an earlier incarnation of the peer says nothing about the current one.
    if (payload.incarnation !== null && known !== null && payload.incarnation < known) {
      rc.system.deadLetter(REGION_PATH, 'status', payload, 'stale-incarnation')
      return false
    }
    const members = normalizeMembers(payload.members)
    const mine = rc.incarnationOf(rc.self)
    const seesMe = members.includes(rc.self) && (payload.yourIncarnation === null || mine === null || payload.yourIncarnation === mine)
    this.seeRegion(payload.node)
    this.peers.set(payload.node, { table: this.allocations.get(members), handingOff: new Set(payload.handingOff), seesMe })
    if (payload.reply) this.sendStatus(payload.node, false, this.handingOffList())
    return true
  }

  /** Remembers that `node`'s region exists; strangers (not members, not departed) are dropped beyond a bound. */
  private seeRegion(node: string): void {
    this.regionsSeen.add(node)
    if (this.regionsSeen.size <= this.members.length + this.departed.size + MAX_STRANGER_REGIONS) return
    for (const n of this.regionsSeen) if (!this.members.includes(n) && !this.departed.has(n) && n !== node) this.regionsSeen.delete(n)
  }

  /** Whether `node`'s region has sent a status (so it exists), and has not been found gone since. */
  hasRegion(node: string): boolean {
    return this.regionsSeen.has(node)
  }

  /**
   * `node` answered that it has no region (its sharding stopped or has not
   * started again): what it said no longer holds, and messages for the
   * shards it owns wait here until its region reports again.
   */
  forget(node: string): void {
    this.peers.delete(node)
    this.regionsSeen.delete(node)
  }

  /** A peer finished handing shards off; true if it was taken. */
  onReleased(payload: unknown): boolean {
    if (!isReleasedMsg(payload, this.rc.config.shards)) {
      this.rc.system.deadLetter(REGION_PATH, 'released', payload, 'malformed-released')
      return false
    }
    const peer = this.peers.get(payload.node)
    if (peer === undefined) return false
    for (const s of payload.shards) peer.handingOff.delete(s)
    return true
  }

  broadcastStatus(): void {
    const handingOff = this.handingOffList()
    for (const node of this.targets()) this.sendStatus(node, this.peers.get(node)?.seesMe !== true, handingOff)
  }

  /** Tells everyone who hears of this node that these shards are released. */
  broadcastReleased(shards: number[]): void {
    const released: ReleasedMsg = { node: this.rc.self, shards }
    for (const node of this.targets()) this.send(node, 'released', released)
  }

  /**
   * Owner under this node's view, and no peer's last status claims the shard:
   * no member owns it under its own view or hands it off, and no recently
   * departed node still hands it off. A member's status counts only once its
   * view holds this node: before that it does not send this node its changes,
   * so what it said may be stale (a rejoin seen at different times). For the
   * same reason a node that left gracefully and whose last status did not
   * hold this node still blocks the shards it owned in it (a leave that
   * overlapped this node's join: its status saying it hands them off went to
   * the members of its own view only).
   */
  canActivate(s: number): boolean {
    const self = this.rc.self
    for (const node of this.members) {
      if (node === self) continue
      const peer = this.peers.get(node)
      if (peer === undefined || !peer.seesMe || peer.table?.ownerOf(s) === node || peer.handingOff.has(s)) return false
    }
    const now = this.rc.now()
    for (const [node, untilMs] of this.departed) {
      if (untilMs <= now) continue
      const peer = this.peers.get(node)
      if (peer === undefined) continue
      if (peer.handingOff.has(s)) return false
      // A leaver's status from before it saw this node may be stale: it did
      // not tell this node of its later changes, such as its leave, after
      // which it hands off what it owned. Until a current status comes
      // (pokePeers asks for one) or its time passes, what it owned stays blocked.
      if (!peer.seesMe && this.leavers.has(node) && peer.table?.ownerOf(s) === node) return false
    }
    return true
  }

  /** Every peer's last status routes the shard elsewhere: nothing more of theirs is on its way here. */
  noPeerRoutesHere(s: number): boolean {
    const self = this.rc.self
    for (const node of this.members) {
      if (node === self) continue
      const peer = this.peers.get(node)
      if (peer === undefined || peer.table?.ownerOf(s) === self) return false
    }
    return true
  }

  /** Asks peers whose status holds a shard up to send it again (a status may have been lost). */
  pokePeers(): void {
    const self = this.rc.self
    const poke = new Set<string>()
    for (const node of this.members) if (node !== self && this.peers.get(node)?.seesMe !== true) poke.add(node)
    for (const shard of this.rc.shards.values()) {
      if (shard.phase !== 'waiting' && shard.phase !== 'draining') continue
      for (const [node, peer] of this.peers) {
        const owner = peer.table?.ownerOf(shard.id)
        if (!this.members.includes(node) && !this.departed.has(node)) continue
        const blocks = shard.phase === 'waiting' ? owner === node || peer.handingOff.has(shard.id) : owner === self
        if (blocks) poke.add(node)
      }
    }
    if (poke.size === 0) return
    const handingOff = this.handingOffList()
    for (const node of poke) this.sendStatus(node, true, handingOff)
  }

  /** The region actor of a node. */
  regionOf(node: string): ActorRef {
    let ref = this.regionRefs.get(node)
    if (ref === undefined) {
      ref = this.rc.system.remoteRef(node, REGION_PATH)
      this.regionRefs.set(node, ref)
    }
    return ref
  }

  /** Who hears of this node's status and releases: the members and the recently departed. */
  private targets(): Set<string> {
    const out = new Set(this.members)
    for (const node of this.departed.keys()) out.add(node)
    out.delete(this.rc.self)
    return out
  }

  private sendStatus(node: string, reply: boolean, handingOff: number[]): void {
    const rc = this.rc
    const yours = this.members.includes(node) ? rc.incarnationOf(node) : null
    const status: StatusMsg = { node: rc.self, members: this.members, handingOff, shards: rc.config.shards, reply, incarnation: rc.incarnationOf(rc.self), yourIncarnation: yours }
    this.send(node, 'status', status)
  }

  private handingOffList(): number[] {
    const out: number[] = []
    for (const shard of this.rc.shards.values()) if (shard.handingOff) out.push(shard.id)
    return out
  }

  private send(node: string, type: 'status' | 'released', payload: StatusMsg | ReleasedMsg): void {
    try {
      this.rc.ctx.tell(this.regionOf(node), type, payload)
    } catch (err) {
      this.rc.system.deadLetter(`${node}${REGION_PATH}`, type, payload, isTroupeError(err) ? err.code.toLowerCase() : 'send-failed')
    }
  }
}
