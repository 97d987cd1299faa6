import type { ActorContext } from '@troupe/runtime'
import { fnv1a32 } from '@troupe/runtime/hash'
import { bootstrapState } from '../internal/bootstrap.js'
import { InvariantError } from '../internal/errors.js'
import { RaftCore } from '../internal/raft-core.js'
import type { PersistedState } from '../storage.js'
import { GroupProxy } from './group-proxy.js'
import { GroupReplica, type ReplicaPort } from './group-replica.js'
import { errorReply, okReply, type GroupSpec, type GroupStatus, type HostProtocol, type HostReply, type Reply } from './host-protocol.js'
import type { ResolvedHostOptions } from './host-options.js'
import { ReplicatedMachine } from './replicated-machine.js'

export type Group = GroupReplica | GroupProxy

/** What the registry tells its host about replicas coming and going. */
export interface RegistryHost {
  /** A replica opened: it ticks and may have a Ready. */
  started(g: GroupReplica): void
  /** A replica stopped: it neither ticks nor drains any more. */
  forgotten(g: GroupReplica): void
  drain(): void
}

/**
 * The groups open on this node: replicas (members, with a core, storage and
 * state machine) and proxies (a node that only forwards requests). Opening
 * loads the storage in the background and starts the replica when it is
 * back (`opened`, a message the host sends itself); closing or a failure
 * stops the replica, and its waiting requests get GROUP_STOPPED.
 */
export class GroupRegistry {
  private readonly groups = new Map<string, Group>()
  /** Groups whose storage is loading. */
  private readonly opening = new Set<string>()

  constructor(
    private readonly ctx: ActorContext<HostProtocol>,
    private readonly o: ResolvedHostOptions,
    private readonly port: ReplicaPort,
    private readonly host: RegistryHost,
  ) {}

  get size(): number {
    return this.groups.size
  }

  get(id: string): Group | undefined {
    return this.groups.get(id)
  }

  values(): IterableIterator<Group> {
    return this.groups.values()
  }

  open(spec: GroupSpec): void {
    const reply = this.ctx.deferReply<HostReply>()
    const self = this.port.self
    const problem = specProblem(spec)
    if (problem !== null) return reply.resolve(errorReply('INVALID_ARGUMENT', `bad group spec: ${problem}`))
    if (this.groups.has(spec.id) || this.opening.has(spec.id)) {
      return reply.resolve(errorReply('INVALID_ARGUMENT', `group ${spec.id} is already open on ${self}`))
    }
    if (spec.stateMachine === null || spec.storage === null) {
      this.groups.set(spec.id, new GroupProxy(spec.id, [...spec.members, ...spec.learners]))
      return reply.resolve(okReply(null))
    }
    this.opening.add(spec.id)
    const me = this.ctx.self
    const done = (r: HostReply) => reply.resolve(r)
    spec.storage.load().then(
      (state) => me.tell('opened', { spec, state, error: null, reply: done }),
      (err) => me.tell('opened', { spec, state: null, error: String(err), reply: done }),
    )
  }

  opened(p: { spec: GroupSpec; state: PersistedState | null; error: string | null; reply: Reply }): void {
    // Sent by this host to itself only; anything else (a peer's tell) is dropped.
    if (typeof p?.reply !== 'function' || !this.opening.has(p.spec?.id)) return
    const { spec } = p
    this.opening.delete(spec.id)
    if (p.state === null) return p.reply(errorReply('GROUP_STOPPED', `cannot load group ${spec.id}: ${p.error}`))
    let state = p.state
    const empty = state.snapshot === null && state.entries.length === 0 && state.hardState.term === 0 && state.hardState.commit === 0
    if (empty && !spec.join) {
      // A founding member: every one starts from the same snapshot holding the initial configuration.
      state = bootstrapState({ voters: spec.members, learners: spec.learners })
      spec.storage!.saveSnapshot(state.snapshot!)
      spec.storage!.setHardState(state.hardState)
    }
    let g: GroupReplica
    try {
      g = this.startReplica(spec, state)
    } catch (err) {
      if (err instanceof InvariantError) throw err
      return p.reply(errorReply('GROUP_STOPPED', `cannot start group ${spec.id}: ${String(err)}`))
    }
    // A new group need not wait an election timeout: one founding member, picked by the group's id
    // so that leaders spread over the nodes, campaigns at once (PreVote keeps that harmless).
    if (empty && !spec.join && firstCandidate(spec) === this.port.self) g.campaign()
    this.groups.set(spec.id, g)
    this.host.started(g)
    p.reply(okReply(null))
    this.host.drain()
  }

  close(id: string): void {
    const reply = this.ctx.deferReply<HostReply>()
    const g = this.groups.get(id)
    if (g === undefined) return reply.resolve(okReply(null))
    this.groups.delete(id)
    if (g instanceof GroupProxy) return reply.resolve(okReply(null))
    this.forget(g, `group ${id} was stopped on ${this.port.self}`)
    g.storage.close().then(
      () => reply.resolve(okReply(null)),
      (err) => reply.resolve(errorReply('GROUP_STOPPED', `group ${id} stopped; closing its storage failed: ${String(err)}`)),
    )
  }

  stopAll(): void {
    for (const g of this.groups.values()) if (g instanceof GroupReplica) this.forget(g, `node ${this.port.self} is stopping`)
    this.groups.clear()
  }

  /** The replica threw: it stops here (the other groups go on); a broken invariant is rethrown. */
  fail(g: GroupReplica, err: unknown): void {
    const self = this.port.self
    this.o.log?.(`[${g.id}] stopped on ${self}: ${String(err)}`)
    if (this.groups.get(g.id) === g) this.groups.delete(g.id)
    this.forget(g, `group ${g.id} failed on ${self}: ${err instanceof Error ? err.message : String(err)}`)
    if (err instanceof InvariantError) throw err
  }

  status(id: string): GroupStatus | null {
    const g = this.groups.get(id)
    if (g === undefined) return null
    if (g instanceof GroupReplica) return g.status()
    return {
      id, node: this.port.self, role: 'proxy', leader: g.leaderHint, term: 0, commit: 0, applied: 0, lastIndex: 0, snapshotIndex: 0,
      config: { voters: [...g.members], learners: [] }, quiesced: false, appliedCommands: 0, snapshotsInstalled: 0, snapshotsTaken: 0, sessions: 0,
    }
  }

  private forget(g: GroupReplica, why: string): void {
    this.host.forgotten(g)
    g.stop(why)
  }

  private startReplica(spec: GroupSpec, state: PersistedState): GroupReplica {
    const log = this.o.log
    const core = new RaftCore(
      {
        ...this.o.raft,
        id: this.port.self,
        random: this.ctx.system.random,
        electionTicks: this.o.electionTicks,
        heartbeatTicks: this.o.heartbeatTicks,
        ...(log ? { log: (line: string) => log(`[${spec.id}] ${line}`) } : {}),
      },
      state,
    )
    const machine = new ReplicatedMachine(spec.stateMachine!, { sessionTtlMs: spec.sessionTtlMs, maxResultsPerClient: spec.maxResultsPerClient })
    if (state.snapshot !== null && state.snapshot.data.byteLength > 0) machine.restore(state.snapshot.data)
    return new GroupReplica(spec.id, core, spec.storage!, machine, spec, this.port)
  }
}

/** The founding member that campaigns first: an FNV-1a hash of the group id picks one of the sorted voters. */
function firstCandidate(spec: GroupSpec): string | undefined {
  const voters = [...spec.members].sort()
  return voters[fnv1a32(spec.id) % voters.length]
}

function specProblem(spec: GroupSpec): string | null {
  if (typeof spec !== 'object' || spec === null || typeof spec.id !== 'string' || spec.id.length === 0) return 'bad id'
  if (!Array.isArray(spec.members) || !Array.isArray(spec.learners)) return 'bad members'
  const replica = spec.stateMachine !== null || spec.storage !== null
  if (replica && (typeof spec.stateMachine !== 'function' || typeof spec.storage?.sync !== 'function')) return 'a replica needs a state machine and a storage'
  return null
}
