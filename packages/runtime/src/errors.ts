// The one error vocabulary of the project. This module imports nothing, so a
// pure core (Raft, the lease table, the saga machine) loads it through
// `@troupe/runtime/errors` without loading sockets or the codec.

/**
 * The base of every operating failure users can act on: a stable `code` from
 * a closed set, and whether sending the same request again may succeed.
 * Each package extends it with its own code set (`TroupeError`,
 * `RaftGroupError`, `LeaseError`, `SagaError`, ...).
 */
export abstract class CodedError<C extends string = string> extends Error {
  /** Stable, machine-readable; part of the public API. */
  readonly code: C
  /**
   * True when the same request may succeed if sent again (the failure was a
   * timeout, a lost leader, an overloaded peer); false when retrying cannot help.
   */
  readonly retryable: boolean

  constructor(code: C, message: string, options?: { cause?: unknown; retryable?: boolean }, retryableCodes?: ReadonlySet<string>) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.retryable = options?.retryable ?? retryableCodes?.has(code) ?? false
  }
}

/** True when `err` is a CodedError, optionally with the given code. */
export function isCodedError(err: unknown, code?: string): err is CodedError {
  return err instanceof CodedError && (code === undefined || err.code === code)
}

/** Whether a failed request is worth sending again: a CodedError that says so. */
export function isRetryable(err: unknown): boolean {
  return err instanceof CodedError && err.retryable
}

/** The `code` of any error that carries a string one (a CodedError or a foreign error), else undefined. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

/** Codes of the runtime's operating failures. */
export const ErrorCode = {
  ASK_TIMEOUT: 'ASK_TIMEOUT',
  ACTOR_STOPPED: 'ACTOR_STOPPED',
  ACTOR_NOT_FOUND: 'ACTOR_NOT_FOUND',
  MAILBOX_FULL: 'MAILBOX_FULL',
  HANDLER_FAILED: 'HANDLER_FAILED',
  UNKNOWN_MESSAGE: 'UNKNOWN_MESSAGE',
  STASH_FULL: 'STASH_FULL',
  NAME_TAKEN: 'NAME_TAKEN',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  SYSTEM_STOPPED: 'SYSTEM_STOPPED',
  NODE_UNREACHABLE: 'NODE_UNREACHABLE',
  CODEC_ERROR: 'CODEC_ERROR',
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  BACKPRESSURE: 'BACKPRESSURE',
  /** `entity()` or a routed message names a kind this node has not registered. */
  UNKNOWN_ENTITY_KIND: 'UNKNOWN_ENTITY_KIND',
  /** An entity id that is not a well-formed string of 1-256 characters. */
  INVALID_ENTITY_ID: 'INVALID_ENTITY_ID',
  /** The region's handoff buffer is full: the message went to dead letters. */
  SHARD_BUFFER_FULL: 'SHARD_BUFFER_FULL',
  /** Strict single activation: the entity's permit was lost (or may be), so it did not handle the message. */
  ACTIVATION_LOST: 'ACTIVATION_LOST',
  UNKNOWN_ACTOR_KIND: 'UNKNOWN_ACTOR_KIND',
  /** A transport could not listen: another socket holds its host:port. */
  ADDRESS_IN_USE: 'ADDRESS_IN_USE',
  /** A node refused a death watch: the watching node holds `maxWatchesPerPeer` watches there already. */
  WATCH_REFUSED: 'WATCH_REFUSED',
  /** A handshake with a peer failed its HMAC proof: the two nodes hold different cluster secrets (or one is forged). */
  AUTH_FAILED: 'AUTH_FAILED',
  /** A peer speaks no wire protocol version this node speaks (their supported ranges do not overlap). */
  PROTOCOL_MISMATCH: 'PROTOCOL_MISMATCH',
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/**
 * Runtime failures a retry may cure: the target did not answer in time, its
 * node is unreachable or pushing back, or the actor is not there yet (a
 * service that is still starting on that node).
 */
const RETRYABLE_RUNTIME_CODES: ReadonlySet<string> = new Set<ErrorCode>(['ASK_TIMEOUT', 'NODE_UNREACHABLE', 'ACTOR_NOT_FOUND', 'BACKPRESSURE', 'SHARD_BUFFER_FULL', 'ACTIVATION_LOST'])

/** An operating failure of the runtime (asks, mailboxes, remoting, sharding). */
export class TroupeError extends CodedError<ErrorCode> {
  override readonly name: string = 'TroupeError'
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(code, message, options, RETRYABLE_RUNTIME_CODES)
  }
}

/** True when `err` is a TroupeError, optionally with the given code. */
export function isTroupeError(err: unknown, code?: ErrorCode): err is TroupeError {
  return err instanceof TroupeError && (code === undefined || err.code === code)
}

/**
 * A failure raised by a handler on another node: it keeps the code it had
 * there (a `RaftGroupError`'s `NOT_LEADER`, an app's own code), which may
 * belong to no set of this node's. The wire carries no retryability, so it
 * is judged here: retryable when the code is a retryable runtime code.
 */
export class RemoteError extends CodedError<string> {
  override readonly name: string = 'RemoteError'
  constructor(
    code: string,
    message: string,
    /** The error's class name on the node that raised it. */
    readonly remoteName: string,
  ) {
    super(code, message, undefined, RETRYABLE_RUNTIME_CODES)
  }
}

/** A broken invariant: a bug. Nobody should catch it. */
export class InvariantError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'InvariantError'
  }
}

export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message)
}
