export type TxDecision = 'commit' | 'abort'
export type TxVote = 'yes' | 'no'

/** What a participant gets with `prepare`: the transaction, its part of the work, and whom to ask for the outcome. */
export interface PrepareRequest<Op = unknown> {
  txId: string
  op: Op
  /**
   * Nodes whose coordinator (at TX_COORDINATOR_PATH) can answer `outcome`;
   * asked in turn. Names rather than refs, so a restarted coordinator is
   * still found.
   */
  coordinators: string[]
}

/**
 * What a two-phase participant actor answers (see `defineTxParticipant`).
 * After voting yes it must keep the transaction prepared (durably, in a
 * real resource) until it learns the decision: from the coordinator, or by
 * asking `outcome`.
 */
export type TxParticipantProtocol<Op = unknown> = {
  prepare(req: PrepareRequest<Op>): TxVote
  commit(req: { txId: string }): 'ack'
  abort(req: { txId: string }): 'ack'
}

/** What a coordinator answers participants (its actor is `/system/tx-coordinator` on each node). */
export type TxCoordinatorProtocol = {
  /** The decision; for a transaction with none yet, abort is decided (and recorded) now: presumed abort. */
  outcome(req: { txId: string }): TxDecision
}

export const TX_COORDINATOR_NAME = 'tx-coordinator'
export const TX_COORDINATOR_PATH = `/system/${TX_COORDINATOR_NAME}`
