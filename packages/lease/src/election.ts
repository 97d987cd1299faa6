import type { NameInfo } from './core/commands.js'
import type { Lease } from './client/lease.js'
import type { AcquireOptions, WatchOptions } from './client/options.js'

/** Who leads an election: the value it campaigned with and its fencing token. */
export interface ElectionLeader {
  value: string | null
  token: number
  clientId: string
}

/** Lease names of elections live under this prefix. */
export const ELECTION_PREFIX = 'election/'

/** What an election needs of a lease client (`Leases` is one). */
export interface ElectionLeases {
  acquire(name: string, options: AcquireOptions): Promise<Lease>
  get(name: string): Promise<NameInfo>
  watch(name: string, options: WatchOptions): AsyncGenerator<NameInfo, void, undefined>
}

/**
 * Leader election on leases: a candidate campaigns by queueing for the
 * election's exclusive lease; it leads while it holds it (its `signal` says
 * when it may no longer), and its token fences what it does as leader.
 * Candidates are served in the order they campaigned.
 */
export class Election {
  constructor(private readonly leases: ElectionLeases) {}

  campaign(election: string, value: string, options: Omit<AcquireOptions, 'mode' | 'value'> = {}): Promise<Lease> {
    return this.leases.acquire(ELECTION_PREFIX + election, { ...options, mode: 'exclusive', value })
  }

  async leader(election: string): Promise<ElectionLeader | null> {
    return leaderOf(await this.leases.get(ELECTION_PREFIX + election))
  }

  async *observe(election: string, options: WatchOptions = {}): AsyncGenerator<ElectionLeader | null, void, undefined> {
    let last: number | null = null
    for await (const info of this.leases.watch(ELECTION_PREFIX + election, options)) {
      const leader = leaderOf(info)
      const token = leader?.token ?? 0
      if (token === last) continue
      last = token
      yield leader
    }
  }
}

function leaderOf(info: NameInfo): ElectionLeader | null {
  const holder = info.holders[0]
  return holder === undefined ? null : { value: holder.value, token: holder.token, clientId: holder.clientId }
}
