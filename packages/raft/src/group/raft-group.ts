import { isTroupeError, type ActorRef, type ActorSystem } from '@troupe/runtime'
import type { ConfChange } from '../internal/conf-change.js'
import { ClientSession } from './client-session.js'
import { encodeValue } from './command-codec.js'
import { RaftGroupError, replyError } from './group-error.js'
import { errorReply, type GroupStatus, type HostProtocol, type HostReply } from './host-protocol.js'
import { ProposeBatcher } from './propose-batcher.js'

export interface RequestOptions {
  /** Give up after this many ms (default: the group's `requestTimeoutMs`). */
  timeoutMs?: number
}

/** How a handle retries; see GroupOptions. */
export interface RetryPolicy {
  requestTimeoutMs: number
  attemptTimeoutMs: number
  minBackoffMs: number
  maxBackoffMs: number
}

type Kind = 'propose' | 'proposeBatch' | 'read' | 'confChange' | 'transfer'

/**
 * A handle on a Raft group from one node. Requests go to this node's host,
 * which serves them if it leads the group (or, for reads, confirms its
 * commit index with the leader) and forwards them to the leader otherwise.
 * The handle retries until its deadline when the leader moved or an attempt
 * went unanswered; every command carries this handle's session (clientId,
 * seq), so a retry of a command that was applied is answered from the
 * replicated session table instead of applying twice.
 */
export class RaftGroup<Command = unknown, Result = unknown, Query = unknown, QueryResult = unknown> {
  /** Proposals of one turn travel to the host as one message. */
  private readonly batcher: ProposeBatcher

  constructor(
    readonly id: string,
    private readonly system: ActorSystem,
    private readonly host: ActorRef<HostProtocol>,
    private session: ClientSession,
    private readonly retry: RetryPolicy,
    private readonly newSession: () => ClientSession,
  ) {
    this.batcher = new ProposeBatcher(id, (kind, payload, attemptMs) => this.ask(kind, payload, attemptMs))
  }

  /** This handle's client id in the group's session table. */
  get clientId(): string {
    return this.session.clientId
  }

  /**
   * Replicates `command` and resolves with what `apply` returned, once the
   * command is committed (durable on a majority) and applied on the leader.
   * Rejects with NOT_LEADER or TIMEOUT when it could not be confirmed in
   * time (it may still apply: the outcome is unknown), GROUP_STOPPED,
   * COMMAND_FAILED (apply threw), SESSION_EXPIRED, OVERLOADED, INVALID_ARGUMENT.
   */
  async propose(command: Command, options?: RequestOptions): Promise<Result> {
    let bytes: number
    try {
      bytes = encodeValue(command).byteLength
    } catch (err) {
      throw new RaftGroupError('INVALID_ARGUMENT', `command cannot be encoded as CBOR: ${String(err)}`)
    }
    const session = this.session
    const seq = session.begin()
    try {
      const clientId = session.clientId
      const result = await this.call(options, (timeoutMs) =>
        this.batcher.send({ timeoutMs, clientId, seq, ackedBelow: session.ackedBelow, established: session.established, command }, bytes),
      )
      session.established = true
      return result as Result
    } catch (err) {
      // The group forgot this client: later commands go under a new session.
      if (err instanceof RaftGroupError && err.code === 'SESSION_EXPIRED' && this.session === session) this.session = this.newSession()
      throw err
    } finally {
      session.end(seq)
    }
  }

  /** A linearizable read: `query` runs on a replica that has applied every write committed before the call. */
  async read(query: Query, options?: RequestOptions): Promise<QueryResult> {
    return (await this.call(options, (timeoutMs) => this.ask('read', { group: this.id, timeoutMs, forwarded: false, query }, timeoutMs))) as QueryResult
  }

  /** Adds `node` as a voter (or promotes a learner). Resolves once the change is applied on the leader. */
  addVoter(node: string, options?: RequestOptions): Promise<void> {
    return this.change({ type: 'addVoter', node }, options)
  }

  /** Adds `node` as a learner: it receives the log but does not vote. */
  addLearner(node: string, options?: RequestOptions): Promise<void> {
    return this.change({ type: 'addLearner', node }, options)
  }

  /** Removes a voter or learner (the leader too: it hands over first). */
  removeNode(node: string, options?: RequestOptions): Promise<void> {
    return this.change({ type: 'removeNode', node }, options)
  }

  /** Asks the leader to hand leadership to `node`; resolves once the leader sees `node` lead. */
  async transferLeadership(node: string, options?: RequestOptions): Promise<void> {
    await this.call(options, (timeoutMs) => this.ask('transfer', { group: this.id, timeoutMs, forwarded: false, to: node }, timeoutMs))
  }

  /** This node's view of the group (null if it is not open here). */
  status(): Promise<GroupStatus | null> {
    return this.host.ask('status', { group: this.id })
  }

  /** Stops the group on this node; waiting requests fail with GROUP_STOPPED. The other replicas go on. */
  async stop(): Promise<void> {
    const r = await this.host.ask('close', { group: this.id })
    if (!r.ok) throw replyError(r)
  }

  private async change(change: ConfChange, options?: RequestOptions): Promise<void> {
    await this.call(options, (timeoutMs) => this.ask('confChange', { group: this.id, timeoutMs, forwarded: false, change }, timeoutMs))
  }

  /**
   * Sends attempts until one answers, a failure says not to resend (`retry` false: thrown as is), or the
   * deadline passes (thrown as NOT_LEADER or TIMEOUT, both retryable for the caller).
   * `attempt` sends one attempt's request. Each spells out its fields: V8 (Node 20) builds `{ ...base, a, b }`
   * through a slow path, about 4 µs per request on the hot path.
   */
  private async call(options: RequestOptions | undefined, attempt: (attemptMs: number) => Promise<HostReply>): Promise<unknown> {
    const clock = this.system.clock
    const timeoutMs = options?.timeoutMs ?? this.retry.requestTimeoutMs
    if (!(timeoutMs > 0)) throw new RaftGroupError('INVALID_ARGUMENT', `timeoutMs must be > 0, got ${timeoutMs}`)
    const deadline = clock.now() + timeoutMs
    let backoffMs = this.retry.minBackoffMs
    let last: HostReply | null = null
    for (;;) {
      const remaining = deadline - clock.now()
      if (remaining <= 0) break
      const attemptMs = Math.min(remaining, this.retry.attemptTimeoutMs)
      const r = await attempt(attemptMs)
      if (r.ok) return r.value
      if (!r.retry) throw replyError(r)
      last = r
      // An unanswered attempt is retried at once; a leader change gets a moment to settle.
      if (r.code !== 'TIMEOUT') {
        await sleep(this.system, Math.min(backoffMs, deadline - clock.now()))
        backoffMs = Math.min(backoffMs * 2, this.retry.maxBackoffMs)
      }
    }
    if (last?.code === 'NOT_LEADER') throw new RaftGroupError('NOT_LEADER', `no leader of group ${this.id} answered within ${timeoutMs} ms: ${last.message}`, last.leader)
    throw new RaftGroupError('TIMEOUT', `group ${this.id} did not answer within ${timeoutMs} ms${last ? `: ${last.message}` : ''}`, last?.ok === false ? last.leader : null)
  }

  private async ask(kind: Kind, payload: object, attemptMs: number): Promise<HostReply> {
    try {
      // A little longer than the host's own deadline, so its TIMEOUT answer (with a leader hint) arrives first.
      return await this.host.ask(kind, payload as never, { timeoutMs: attemptMs + 200 })
    } catch (err) {
      if (isTroupeError(err, 'ACTOR_STOPPED') || isTroupeError(err, 'ACTOR_NOT_FOUND') || isTroupeError(err, 'SYSTEM_STOPPED')) {
        return errorReply('GROUP_STOPPED', `the raft host of ${this.system.name} is stopped`)
      }
      if (isTroupeError(err, 'ASK_TIMEOUT')) return errorReply('TIMEOUT', String(err), null, true)
      throw err
    }
  }
}

function sleep(system: ActorSystem, ms: number): Promise<void> {
  if (!(ms > 0)) return Promise.resolve()
  return new Promise((resolve) => system.clock.setTimer(ms, resolve))
}
