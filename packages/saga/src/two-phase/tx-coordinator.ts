import type { ActorRef, ActorSystem } from '@troupe/runtime'
import { defineActor } from '@troupe/runtime'
import { SagaError } from '../errors.js'
import { appendDurably, sleep } from '../internal/durable-append.js'
import type { AppendEnv } from '../internal/durable-append.js'
import type { SagaLog } from '../log/saga-log.js'
import type { ErrorInfo, SagaRecord, SagaRecordBody, TxParticipantAddress } from '../records.js'
import { errorInfo } from '../records.js'
import type { RetryPolicy } from '../retry-policy.js'
import { resolveRetry, retryDelayMs } from '../retry-policy.js'
import type { ResolvedRetryPolicy } from '../retry-policy.js'
import type { TxCoordinatorProtocol, TxDecision, TxParticipantProtocol } from './tx-protocol.js'
import { TX_COORDINATOR_NAME } from './tx-protocol.js'

export interface TwoPhaseOptions {
  system: ActorSystem
  /** The decision log (a RaftSagaLog in a cluster: any node can then answer participants). */
  log: SagaLog
  /** Nodes whose coordinators participants may ask for an outcome (default: this node only). */
  peers?: string[]
  /** How long to wait for all votes; a missing vote aborts (default 2000 ms). */
  prepareTimeoutMs?: number
  /** How commit and abort are re-sent until acknowledged (default: forever, 50 ms doubling to 5 s). */
  deliveryRetry?: RetryPolicy
  /** Per attempt of a commit/abort delivery (default 1000 ms). */
  deliveryTimeoutMs?: number
  /** How appends are retried while the log is unavailable (default: forever, 50 ms doubling to 2 s). */
  logRetry?: RetryPolicy
}

export interface TxPart<Op = unknown> {
  participant: ActorRef<TxParticipantProtocol<Op>>
  op: Op
}

export type TxResult =
  | { outcome: 'committed'; txId: string }
  | { outcome: 'aborted'; txId: string; reason: 'voted-no' | 'no-vote' | 'decided-abort'; participant?: string; error?: ErrorInfo }

/**
 * Two-phase commit over participant actors, with a durable decision log and
 * presumed abort:
 *
 * 1. `prepare` goes to every participant; each votes yes (and holds its
 *    part prepared) or no.
 * 2. With every vote yes, the coordinator appends TxDecided(commit) to the
 *    log at position 0 of the transaction's history. That append is the
 *    commit point. Any no, error or timeout aborts, and nothing is written.
 * 3. The decision goes to every participant until each acknowledges; then
 *    TxEnded is appended.
 *
 * A participant left prepared asks `outcome`. Any node's coordinator answers
 * from the log; for a transaction with no decision it first appends
 * TxDecided(abort) at position 0. Because the decision slot is
 * compare-and-append, a coordinator still collecting votes then loses its
 * commit append and aborts too: the first decision recorded is the one.
 */
export class TwoPhaseCoordinator {
  readonly node: string
  private readonly system: ActorSystem
  private readonly log: SagaLog
  private readonly writer: string
  private readonly appendEnv: AppendEnv
  private readonly delivery: ResolvedRetryPolicy
  private readonly deliveryTimeoutMs: number
  private readonly prepareTimeoutMs: number
  private readonly peers: string[]
  private readonly delivering = new Set<string>()
  private actor: ActorRef<TxCoordinatorProtocol> | null = null
  private closed = false

  constructor(options: TwoPhaseOptions) {
    this.system = options.system
    this.log = options.log
    this.node = options.system.name
    this.writer = `${this.node}#${Math.floor(options.system.random() * 2 ** 32).toString(36)}`
    this.prepareTimeoutMs = options.prepareTimeoutMs ?? 2000
    this.deliveryTimeoutMs = options.deliveryTimeoutMs ?? 1000
    this.delivery = resolveRetry(options.deliveryRetry, { attempts: Infinity, backoffMs: 50, maxBackoffMs: 5000 }, 'deliveryRetry')
    const logRetry = resolveRetry(options.logRetry, { attempts: Infinity, backoffMs: 50, maxBackoffMs: 2000 }, 'logRetry')
    this.appendEnv = { log: this.log, clock: this.system.clock, retry: logRetry, closed: () => this.closed }
    this.peers = options.peers ?? [this.node]
  }

  /** Starts answering participants' `outcome` questions on this node. */
  start(): void {
    if (this.actor) return
    const self = this
    this.actor = this.system.spawnSystemActor(
      defineActor({
        name: 'tx-coordinator',
        initial: () => null,
        handlers: {
          outcome(_s, req: { txId: string }, ctx) {
            const reply = ctx.deferReply<TxDecision>()
            self.decisionFor(req.txId).then(
              (d) => reply.resolve(d),
              (e) => reply.reject(e),
            )
            return undefined as unknown as TxDecision
          },
        },
      }),
      { name: TX_COORDINATOR_NAME },
    )
  }

  /**
   * Runs a transaction. Resolves 'committed' once the commit decision is
   * durable (delivery to participants goes on in the background until each
   * acknowledges), or 'aborted'. Idempotent on `txId`: a decided transaction
   * reports its decision again.
   */
  async transact<Op>(txId: string, parts: TxPart<Op>[], options: { prepareTimeoutMs?: number } = {}): Promise<TxResult> {
    this.checkOpen()
    if (typeof txId !== 'string' || txId.length === 0 || txId.length > 400) throw new SagaError('INVALID_ARGUMENT', 'a transaction id is a string of 1 to 400 characters')
    if (parts.length === 0) throw new SagaError('INVALID_ARGUMENT', 'a transaction needs at least one participant')
    const earlier = await this.recorded(txId)
    if (earlier) return this.report(txId, earlier, parts)
    const timeoutMs = options.prepareTimeoutMs ?? this.prepareTimeoutMs
    const votes = await Promise.all(
      parts.map((p) =>
        p.participant.ask('prepare', { txId, op: p.op, coordinators: this.peers }, { timeoutMs }).then(
          (vote) => ({ vote, error: null as unknown }),
          (error: unknown) => ({ vote: null, error }),
        ),
      ),
    )
    const refusal = votes.findIndex((v) => v.vote !== 'yes')
    if (refusal >= 0) {
      // Presumed abort: nothing to record. Participants that voted yes hear it now or ask.
      this.sendAbort(txId, parts.map((p) => p.participant))
      const v = votes[refusal]
      const participant = parts[refusal].participant.toString()
      return v.vote === 'no'
        ? { outcome: 'aborted', txId, reason: 'voted-no', participant }
        : { outcome: 'aborted', txId, reason: 'no-vote', participant, error: errorInfo(v.error) }
    }
    const addresses = parts.map((p) => ({ node: p.participant.node, path: p.participant.path }))
    const decided = this.stamp({ type: 'TxDecided', outcome: 'commit', participants: addresses })
    if ((await appendDurably(this.appendEnv, { id: txId, seq: 0, records: [decided] })) === 'conflict') {
      // A participant's question decided abort first.
      const record = await this.recorded(txId)
      return this.report(txId, record ?? { outcome: 'abort', participants: [] }, parts)
    }
    this.deliver(txId, 'commit', addresses)
    return { outcome: 'committed', txId }
  }

  /** The recorded decision, or null while there is none (which participants read as abort). */
  async outcome(txId: string): Promise<TxDecision | null> {
    return (await this.recorded(txId))?.outcome ?? null
  }

  /**
   * Re-sends commit decisions that were not acknowledged before a crash
   * (those this node's coordinators wrote, or all with `owners: 'all'`).
   * Participants would also ask; this only makes it sooner and lets the log
   * forget the transaction.
   */
  async recover(options: { owners?: string[] | 'all' } = {}): Promise<string[]> {
    this.checkOpen()
    const owners = options.owners ?? [this.node]
    const resumed: string[] = []
    for (const id of await this.log.unfinished()) {
      const history = await this.log.read(id)
      const first = history?.[0]
      if (!history || first?.type !== 'TxDecided' || history.some((r) => r.type === 'TxEnded')) continue
      if (owners !== 'all' && !owners.includes(first.by.slice(0, first.by.lastIndexOf('#')))) continue
      this.deliver(id, first.outcome, first.participants)
      resumed.push(id)
    }
    return resumed
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.actor) await this.system.stop(this.actor).catch(() => undefined)
  }

  /** The decision for a participant's question: recorded, or abort recorded now. */
  private async decisionFor(txId: string): Promise<TxDecision> {
    for (;;) {
      const recorded = await this.recorded(txId)
      if (recorded) return recorded.outcome
      const records = [this.stamp({ type: 'TxDecided', outcome: 'abort', participants: [] }), this.stamp({ type: 'TxEnded' })]
      if ((await appendDurably(this.appendEnv, { id: txId, seq: 0, records })) === 'ok') return 'abort'
    }
  }

  private async recorded(txId: string): Promise<{ outcome: TxDecision; participants: TxParticipantAddress[] } | null> {
    const history = await this.log.read(txId)
    const first = history?.[0]
    if (!history) return null
    if (first?.type !== 'TxDecided') throw new SagaError('SAGA_ID_CONFLICT', `id ${txId} belongs to a saga, not a transaction`)
    return { outcome: first.outcome, participants: first.participants }
  }

  private report(txId: string, decision: { outcome: TxDecision }, parts: TxPart<unknown>[]): TxResult {
    if (decision.outcome === 'commit') return { outcome: 'committed', txId }
    this.sendAbort(txId, parts.map((p) => p.participant))
    return { outcome: 'aborted', txId, reason: 'decided-abort' }
  }

  private sendAbort(txId: string, participants: ActorRef<TxParticipantProtocol<any>>[]): void {
    for (const p of participants) p.tell('abort', { txId })
  }

  /** Sends the decision to every participant until each acknowledges, then records TxEnded. */
  private deliver(txId: string, decision: TxDecision, participants: TxParticipantAddress[]): void {
    if (this.delivering.has(txId)) return
    this.delivering.add(txId)
    const refs = participants.map((a) => this.system.remoteRef<TxParticipantProtocol>(a.node, a.path))
    const one = async (ref: ActorRef<TxParticipantProtocol>) => {
      for (let tries = 1; tries <= this.delivery.attempts && !this.closed; tries++) {
        try {
          await ref.ask(decision, { txId }, { timeoutMs: this.deliveryTimeoutMs })
          return true
        } catch {
          await sleep(this.system.clock, retryDelayMs(this.delivery, tries))
        }
      }
      return false
    }
    void Promise.all(refs.map(one))
      .then(async (acks) => {
        if (!acks.every(Boolean) || this.closed) return
        const history = await this.log.read(txId)
        if (history && !history.some((r) => r.type === 'TxEnded')) {
          await appendDurably(this.appendEnv, { id: txId, seq: history.length, records: [this.stamp({ type: 'TxEnded' })] })
        }
      })
      // The transaction stays unfinished in the log; `recover` (or the participants' questions) finish it.
      .catch(() => undefined)
      .finally(() => this.delivering.delete(txId))
  }

  private stamp(body: SagaRecordBody): SagaRecord {
    return { ...body, atMs: this.system.clock.now(), by: this.writer } as SagaRecord
  }

  private checkOpen(): void {
    if (this.closed) throw new SagaError('CLOSED', `two-phase coordinator on ${this.node} is closed`)
  }
}
