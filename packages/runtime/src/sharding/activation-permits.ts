import { backoffDelayMs } from '../backoff.js'
import type { BackoffPolicy } from '../backoff.js'
import { invariant } from '../errors.js'
import { permitHeld, releasePermit } from './activation-guard.js'
import type { ActivationPermit } from './activation-guard.js'
import type { EntityIdentity, LocalEntities } from './local-entities.js'
import type { Acquisition, EntityEntry, LocalShard } from './local-shard.js'
import type { RegionContext } from './region-context.js'

/** The guard's answer, back in the region's turn; only this class is accepted (a wire payload never is one). */
export class PermitOutcome {
  constructor(
    readonly key: string,
    readonly attempt: number,
    readonly permit: ActivationPermit | null,
    readonly error: unknown,
  ) {}
}

/** An active entity's permit fired. */
export class PermitLost {
  constructor(readonly entry: EntityEntry) {}
}

/** A permit arrived for an entity whose messages wait in `shard`: `entry` runs under it (null: its kind is unknown). */
export interface PermitGranted {
  readonly shard: LocalShard
  readonly key: string
  readonly entry: EntityEntry | null
}

/**
 * Strict single activation: an entity starts only once the activation guard
 * granted this node its permit, and is stopped as soon as the permit is lost.
 * Its messages wait in the shard's buffer meanwhile. A failed request is
 * retried (on the region's tick) after permitRetryMs, doubling up to 32×.
 */
export class ActivationPermits {
  /** Entities waiting for a permit, by entity key. */
  private readonly acquiring = new Map<string, Acquisition>()
  private readonly retryPolicy: BackoffPolicy
  private closed = false
  permitsLost = 0
  permitFailures = 0

  constructor(
    private readonly rc: RegionContext,
    private readonly entities: LocalEntities,
  ) {
    this.retryPolicy = { minMs: rc.config.permitRetryMs, maxMs: Infinity, maxExponent: 5, jitter: 'none' }
  }

  get size(): number {
    return this.acquiring.size
  }

  isAcquiring(key: string): boolean {
    return this.acquiring.has(key)
  }

  begin(shard: LocalShard, who: EntityIdentity): void {
    const acq: Acquisition = { key: who.key, kind: who.kind, id: who.id, shard: shard.id, attempt: 0, controller: null, failures: 0, retryAtMs: 0 }
    this.acquiring.set(who.key, acq)
    this.request(acq)
  }

  /** The guard answered: returns what to deliver the waiting messages to, or null if nothing is to be done now. */
  onPermit(outcome: PermitOutcome): PermitGranted | null {
    const acq = this.acquiring.get(outcome.key)
    const permit = outcome.permit
    if (acq === undefined || acq.attempt !== outcome.attempt) {
      // Nobody waits for it any more (the shard moved, or an aborted attempt answered late).
      if (permit !== null) releasePermit(permit)
      return null
    }
    const shard = this.rc.shards.get(acq.shard)
    if (shard === undefined || (shard.phase !== 'active' && shard.phase !== 'draining')) {
      this.acquiring.delete(acq.key)
      if (permit !== null) releasePermit(permit)
      return null
    }
    if (permit === null || !permitHeld(permit)) {
      if (permit !== null) releasePermit(permit)
      this.permitFailures++
      acq.controller = null
      acq.failures++
      acq.retryAtMs = this.rc.now() + backoffDelayMs(this.retryPolicy, acq.failures - 1, noRandom)
      return null
    }
    this.acquiring.delete(acq.key)
    const def = this.rc.kinds.get(acq.kind)
    if (def === undefined) {
      releasePermit(permit)
      return { shard, key: acq.key, entry: null }
    }
    const entry = this.entities.activate(shard, acq, def, permit)
    const self = this.rc.ctx.self
    permit.signal.addEventListener('abort', () => self.tell('permit-lost', new PermitLost(entry)), { once: true })
    return { shard, key: acq.key, entry }
  }

  /** The permit of a live entity fired: stop it after its current message (what it still holds is not handled). */
  onPermitLost(entry: EntityEntry): void {
    if (!this.entities.isLive(entry) || entry.stopping === 'forced') return
    this.permitsLost++
    this.entities.revoke(entry)
  }

  /** Retries permits whose request failed, while their shard still wants them. */
  retry(nowMs: number): void {
    if (this.acquiring.size === 0) return
    for (const acq of this.acquiring.values()) {
      if (acq.controller !== null || acq.retryAtMs > nowMs) continue
      const shard = this.rc.shards.get(acq.shard)
      if (shard === undefined || (shard.phase !== 'active' && shard.phase !== 'draining')) {
        this.acquiring.delete(acq.key)
        continue
      }
      this.request(acq)
    }
  }

  /** The shard stops hosting: its pending permit requests are called off (its buffer moves on with it). */
  abortFor(shardId: number): void {
    for (const acq of this.acquiring.values()) {
      if (acq.shard !== shardId) continue
      this.acquiring.delete(acq.key)
      acq.controller?.abort()
    }
  }

  /** The region stops: every request is called off, and a permit that still arrives is given back at once. */
  close(): void {
    this.closed = true
    for (const acq of this.acquiring.values()) acq.controller?.abort()
    this.acquiring.clear()
  }

  private request(acq: Acquisition): void {
    const guard = this.rc.config.activationGuard
    invariant(guard !== null, 'permit requested without an activation guard')
    const attempt = this.rc.nextSerial()
    const controller = new AbortController()
    acq.attempt = attempt
    acq.controller = controller
    const self = this.rc.ctx.self
    const answer = (permit: ActivationPermit | null, error: unknown) => {
      if (this.closed) {
        if (permit !== null) void Promise.resolve(permit.release()).catch(() => undefined)
        return
      }
      self.tell('permit', new PermitOutcome(acq.key, attempt, permit, error))
    }
    Promise.resolve()
      .then(() => guard.acquire(acq.kind, acq.id, controller.signal))
      .then(
        (permit) => answer(permit, null),
        (error: unknown) => answer(null, error ?? new Error('activation guard rejected')),
      )
  }
}

/** The retry policy has no jitter: it never draws. */
function noRandom(): number {
  return 0
}
