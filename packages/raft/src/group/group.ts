import type { ActorRef, ActorSystem } from '@troupe/runtime'
import type { LogStorage } from '../storage.js'
import { MemoryLogStorage } from '../storage/memory-log-storage.js'
import { ClientSession } from './client-session.js'
import { RaftGroupError, replyError } from './group-error.js'
import type { GroupSpec, HostProtocol } from './host-protocol.js'
import type { RaftHostOptions } from './host-options.js'
import type { LeadershipHandoff } from './leadership-handoff.js'
import { RaftGroup } from './raft-group.js'
import { RAFT_HOST_NAME, RAFT_HOST_PATH, raftHostDef } from './raft-host.js'
import type { AnyStateMachine, CommandOf, QueryOf, QueryResultOf, ResultOf } from './state-machine.js'

export interface GroupOptions<S extends AnyStateMachine = AnyStateMachine> {
  /** Unique per cluster; at most 200 characters. */
  id: string
  /** Node names (actor system names) of the founding voters. */
  members: string[]
  /** Node names of founding learners (default none). */
  learners?: string[]
  /**
   * Builds an empty state machine. Omit it on a node that is not a member
   * and only sends requests: the group then forwards to the members.
   */
  stateMachine?: () => S
  /**
   * Where the log goes: a node's shared WriteAheadLog (anything with
   * `group(id)`), one LogStorage, or (default) memory, which loses
   * everything when the process ends.
   */
  storage?: LogStorage | { group(id: string): LogStorage }
  /**
   * Start empty and wait to be added (addLearner/addVoter) rather than found
   * the group. Implied for a node outside `members` and `learners`.
   */
  join?: boolean
  /** The log is compacted into a state machine snapshot every this many applied entries (default 10,000). */
  snapshotEveryEntries?: number
  /** A client silent this long in log time loses its session (default 1 hour). Must be equal on every node. */
  sessionTtlMs?: number
  /** Results kept per client until acknowledged (default 4096). Must be equal on every node. */
  maxResultsPerClient?: number
  /** Default deadline of a request, retries included (default 5000 ms). */
  requestTimeoutMs?: number
  /** One attempt waits this long before the handle retries (default 1000 ms). */
  attemptTimeoutMs?: number
  /** Commands of this handle in flight at once (default 1024). */
  maxInflight?: number
  /** Options of this node's Raft host, if this call starts it (see raftHost). */
  host?: RaftHostOptions
}

/**
 * The node's Raft host (/system/raft), started on first use. Options apply
 * only when this call starts it.
 */
export function raftHost(system: ActorSystem, options?: RaftHostOptions): ActorRef<HostProtocol> {
  const existing = system.lookup(RAFT_HOST_PATH)
  if (existing !== undefined) return existing as ActorRef<HostProtocol>
  return system.spawnSystemActor(raftHostDef(options), { name: RAFT_HOST_NAME })
}

/**
 * Hands every Raft group this node leads to another voter: for each, the
 * most up-to-date other voter, and waits (at most `timeoutMs`, default
 * 5000) until this node sees it lead. Groups with no other voter stay led
 * here (`kept`); a transfer that is refused or does not finish in time is in
 * `failed` (the group still works: a later election or a retry moves it).
 * Call it before a planned shutdown, so the groups keep a leader instead of
 * waiting an election timeout after this node is gone. Resolves with an
 * empty result when no Raft host runs on this node.
 */
export async function transferLeadershipAway(system: ActorSystem, options: { timeoutMs?: number } = {}): Promise<LeadershipHandoff> {
  const timeoutMs = positive(options.timeoutMs ?? 5000, 'timeoutMs')
  const host = system.lookup(RAFT_HOST_PATH) as ActorRef<HostProtocol> | undefined
  if (host === undefined) return { moved: [], kept: [], failed: [] }
  const reply = await host.ask('transferAway', { timeoutMs }, { timeoutMs: timeoutMs + 1000 })
  if (!reply.ok) throw replyError(reply)
  return reply.value as LeadershipHandoff
}

/**
 * Opens group `id` on this node and returns a handle to it. Founding
 * members with empty storage start from the same initial configuration;
 * a node with state on disk recovers it (restoring the latest snapshot and
 * replaying the committed log).
 */
export async function group<S extends AnyStateMachine>(
  system: ActorSystem,
  options: GroupOptions<S>,
): Promise<RaftGroup<CommandOf<S>, ResultOf<S>, QueryOf<S>, QueryResultOf<S>>> {
  const spec = groupSpec(system.name, options)
  const host = raftHost(system, options.host)
  const reply = await host.ask('open', { spec }, { timeoutMs: 60_000 })
  if (!reply.ok) throw replyError(reply)
  const maxInflight = positive(options.maxInflight ?? 1024, 'maxInflight')
  const newSession = () => new ClientSession(`${system.name}.${Math.floor(system.random() * 2 ** 48).toString(36)}`, maxInflight)
  const tickMs = options.host?.tickMs ?? 50
  const retry = {
    requestTimeoutMs: positive(options.requestTimeoutMs ?? 5000, 'requestTimeoutMs'),
    attemptTimeoutMs: positive(options.attemptTimeoutMs ?? 1000, 'attemptTimeoutMs'),
    minBackoffMs: tickMs,
    maxBackoffMs: tickMs * 10,
  }
  return new RaftGroup(spec.id, system, host, newSession(), retry, newSession)
}

function groupSpec(self: string, o: GroupOptions<AnyStateMachine>): GroupSpec {
  if (typeof o.id !== 'string' || o.id.length === 0 || o.id.length > 200) throw invalid('id must be a string of 1 to 200 characters')
  const members = strings(o.members, 'members')
  const learners = strings(o.learners ?? [], 'learners')
  if (members.length === 0) throw invalid('members must not be empty')
  if (new Set([...members, ...learners]).size !== members.length + learners.length) throw invalid('members and learners must be distinct')
  const replica = o.stateMachine !== undefined
  if (replica && typeof o.stateMachine !== 'function') throw invalid('stateMachine must be a function returning a state machine')
  let storage: LogStorage | null = null
  if (replica) {
    const s = o.storage ?? new MemoryLogStorage()
    storage = 'group' in s && typeof s.group === 'function' ? s.group(o.id) : (s as LogStorage)
  }
  return {
    id: o.id,
    members,
    learners,
    join: o.join === true || (!members.includes(self) && !learners.includes(self)),
    stateMachine: o.stateMachine ?? null,
    storage,
    snapshotEveryEntries: positive(o.snapshotEveryEntries ?? 10_000, 'snapshotEveryEntries'),
    sessionTtlMs: positive(o.sessionTtlMs ?? 3_600_000, 'sessionTtlMs'),
    maxResultsPerClient: positive(o.maxResultsPerClient ?? 4096, 'maxResultsPerClient'),
  }
}

function strings(xs: unknown, what: string): string[] {
  if (!Array.isArray(xs) || !xs.every((x) => typeof x === 'string' && x.length > 0)) throw invalid(`${what} must be an array of node names`)
  return [...xs]
}

function positive(n: number, what: string): number {
  if (!(Number.isFinite(n) && n > 0)) throw invalid(`${what} must be > 0, got ${n}`)
  return n
}

function invalid(message: string): RaftGroupError {
  return new RaftGroupError('INVALID_ARGUMENT', message)
}
