// The client's tests run against an in-process group (FakeGroup) on a
// manual clock, so the times they assert are virtual and exact.
import { ActorSystem, ManualClock } from '@troupe/runtime'
import type { Clock } from '@troupe/runtime'
import { Leases } from '../src/client/leases.js'
import type { LeasesOptions } from '../src/client/options.js'
import type { Lease } from '../src/client/lease.js'
import { FakeGroup } from './fake-group.js'

export function setup(options: LeasesOptions = {}) {
  const clock = new ManualClock(1_000_000)
  let r = 0
  const system = new ActorSystem({ name: 'n1', clock, random: () => ((r = (r * 9301 + 49297) % 233280) / 233280) })
  const group = new FakeGroup(system, clock)
  const client = (o: LeasesOptions = {}) => new Leases(system, group.client, { requestTimeoutMs: 500, ...options, ...o })
  return { clock, system, group, client, leases: client() }
}

/** When the lease's signal fired (null: not yet). */
export function abortedAt(clock: Clock, lease: Lease): { at: number | null } {
  const out = { at: null as number | null }
  lease.signal.addEventListener('abort', () => (out.at = clock.now()))
  return out
}
