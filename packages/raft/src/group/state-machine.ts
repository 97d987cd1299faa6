/** What a state machine learns about the command it applies. */
export interface ApplyMeta {
  /** Log index of the command: strictly increasing, identical on every replica. */
  index: number
  term: number
  /** Log time (ms): the newest leader clock reading written into the log so far; never goes back, equal on every replica. */
  timeMs: number
  clientId: string
  seq: number
}

/**
 * User code replicated by a Raft group. Every replica applies the same
 * commands in the same order, so `apply` must be deterministic: no clocks
 * (use `meta.timeMs`), no randomness, no I/O. Commands, results, queries and
 * snapshot values must be CBOR-encodable (plain objects, arrays, strings,
 * numbers, booleans, null, Uint8Array).
 */
export interface StateMachine<Command = unknown, Result = unknown, Query = unknown, QueryResult = unknown> {
  /** Applies a committed command; the result goes to the client that proposed it. A throw becomes COMMAND_FAILED. */
  apply(command: Command, meta: ApplyMeta): Result
  /** The whole state, as bytes or a CBOR-encodable value (taken every `snapshotEveryEntries`). */
  snapshot(): Uint8Array | unknown
  /** Replaces the whole state with what `snapshot()` returned (on a replica that fell behind, or at restart). */
  restore(snapshot: unknown): void
  /** Answers a read; must not change the state. */
  query(query: Query): QueryResult
}

export type AnyStateMachine = StateMachine<any, any, any, any>
export type CommandOf<S> = S extends StateMachine<infer C, any, any, any> ? C : never
export type ResultOf<S> = S extends StateMachine<any, infer R, any, any> ? R : never
export type QueryOf<S> = S extends StateMachine<any, any, infer Q, any> ? Q : never
export type QueryResultOf<S> = S extends StateMachine<any, any, any, infer QR> ? QR : never
