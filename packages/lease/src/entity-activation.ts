import type { ActivationGuard } from '@troupe/runtime'
import { LeaseError } from './lease-error.js'
import { ttlProblem } from './client/lease.js'
import type { Leases } from './client/leases.js'

export interface LeaseActivationGuardOptions {
  /** TTL of each entity's lease, in ms (default: the Leases client's default TTL). A crashed owner's entities move after about this long. */
  ttlMs?: number
  /** Prefix of the lease names, `<prefix><kind>/<id>` (default `entity/`). */
  prefix?: string
}

/**
 * Strict single activation for sharded entities: give the result to
 * `Sharding.start(..., { activationGuard })`. The node that runs an entity
 * holds an exclusive lease on it (`entity/<kind>/<id>`) for as long as it
 * runs; a new owner queues for the lease, so it starts the entity only after
 * the old owner released it (handoff, passivation) or the group expired it
 * (crash, partition). The entity reads its fencing token with
 * `entityActivation(ctx).token` and passes it with every state write, so a
 * store behind a `FenceGuard` refuses a stale owner even when it was paused
 * past its TTL.
 */
export function leaseActivationGuard(leases: Leases, options: LeaseActivationGuardOptions = {}): ActivationGuard {
  const prefix = options.prefix ?? 'entity/'
  const ttlMs = options.ttlMs
  if (typeof prefix !== 'string' || prefix.length > 256) throw new LeaseError('INVALID_ARGUMENT', 'prefix must be a string of at most 256 characters')
  const ttl = ttlMs === undefined ? null : ttlProblem(ttlMs, leases.margin)
  if (ttl !== null) throw new LeaseError('INVALID_ARGUMENT', ttl)
  return {
    // A Lease is an ActivationPermit: token, signal, held (read by the clock), release().
    acquire: (kind, id, signal) => leases.acquire(`${prefix}${kind}/${id}`, ttlMs === undefined ? { signal } : { ttlMs, signal }),
  }
}
