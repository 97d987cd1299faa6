/**
 * Operating failures users can act on carry a stable `code`. A broken
 * invariant is a bug and throws `InvariantError`, which nobody should catch.
 */
export const ErrorCode = {
  AskTimeout: 'ASK_TIMEOUT',
  ActorStopped: 'ACTOR_STOPPED',
  ActorNotFound: 'ACTOR_NOT_FOUND',
  MailboxFull: 'MAILBOX_FULL',
  HandlerFailed: 'HANDLER_FAILED',
  UnknownMessage: 'UNKNOWN_MESSAGE',
  StashFull: 'STASH_FULL',
  NameTaken: 'NAME_TAKEN',
  InvalidArgument: 'INVALID_ARGUMENT',
  SystemStopped: 'SYSTEM_STOPPED',
  NodeUnreachable: 'NODE_UNREACHABLE',
  CodecError: 'CODEC_ERROR',
  MessageTooLarge: 'MESSAGE_TOO_LARGE',
  Backpressure: 'BACKPRESSURE',
  UnknownEntityKind: 'UNKNOWN_ENTITY_KIND',
  InvalidEntityId: 'INVALID_ENTITY_ID',
  ShardBufferFull: 'SHARD_BUFFER_FULL',
  ActivationLost: 'ACTIVATION_LOST',
  UnknownActorKind: 'UNKNOWN_ACTOR_KIND',
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

export class TroupeError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = 'TroupeError'
  }
}

/** True when `err` is a TroupeError, optionally with the given code. */
export function isTroupeError(err: unknown, code?: ErrorCode): err is TroupeError {
  return err instanceof TroupeError && (code === undefined || err.code === code)
}

export class InvariantError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'InvariantError'
  }
}

export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message)
}
