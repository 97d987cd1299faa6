import { TroupeError } from '../errors.js'

/**
 * Codes of the operating failures of sharding. They belong in the runtime's
 * closed `ErrorCode` set.
 */
export const ShardingErrorCode = {
  /** `entity()` or a routed message names a kind this node has not registered. */
  UnknownEntityKind: 'UNKNOWN_ENTITY_KIND',
  /** An entity id that is not a well-formed string of 1-256 characters. */
  InvalidEntityId: 'INVALID_ENTITY_ID',
  /** The region's handoff buffer is full: the message went to dead letters. */
  ShardBufferFull: 'SHARD_BUFFER_FULL',
  /** Strict single activation: the entity's permit was lost (or may be), so it did not handle the message. */
  ActivationLost: 'ACTIVATION_LOST',
} as const

export type ShardingErrorCode = (typeof ShardingErrorCode)[keyof typeof ShardingErrorCode]

export function shardingError(code: ShardingErrorCode, message: string): TroupeError {
  return new TroupeError(code, message)
}
