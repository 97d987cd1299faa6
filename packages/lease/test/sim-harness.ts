// Shared pieces of the lease simulations: a recording wrapper around each
// replica's lease table (the replicated history of grants and ends), the
// fenced counter the clients increment, and node boot functions.
import { ActorSystem, defineActor } from '@troupe/runtime'
import { group, WriteAheadLog } from '@troupe/raft'
import type { StateMachine } from '@troupe/raft'
import type { FenceEvent, LeaseLogEvent } from '@troupe/testkit'
import type { NodeEnv } from '@troupe/testkit'
import type { LeaseCommand, LeaseQuery, NameInfo } from '../src/core/commands.js'
import { FenceGuard } from '../src/fence-guard.js'
import { replicaOf } from '../src/server/raft-lease-group.js'
import type { LeaseRaftGroup } from '../src/server/raft-lease-group.js'
import { LeaseService } from '../src/server/lease-service.js'
import type { LeaseTable } from '../src/core/lease-table.js'
import { Leases } from '../src/client/leases.js'
import type { LeasesOptions } from '../src/client/options.js'

export const GROUP_ID = 'leases'

/** The replicated history as every replica incarnation applied it. */
export class AppliedLeases {
  /** replica (node#incarnation) → index → events. */
  readonly replicas = new Map<string, Map<number, LeaseLogEvent[]>>()
  /** index → events and the global time it was first applied anywhere. */
  readonly first = new Map<number, { timeMs: number; events: LeaseLogEvent[] }>()

  constructor(private readonly now: () => number) {}

  wrap(replica: string, table: LeaseTable): StateMachine<LeaseCommand, unknown, LeaseQuery, NameInfo> {
    const record = (index: number, events: LeaseLogEvent[]) => {
      let mine = this.replicas.get(replica)
      if (!mine) this.replicas.set(replica, (mine = new Map()))
      mine.set(index, events)
      if (!this.first.has(index)) this.first.set(index, { timeMs: this.now(), events: events.map((e) => ({ ...e, timeMs: this.now() })) })
    }
    return {
      apply(command, meta) {
        const names = namesOf(command)
        const before = names.map((n) => table.info(n).holders)
        const result = table.apply(command, meta)
        const events: LeaseLogEvent[] = []
        names.forEach((name, i) => {
          const was = new Map(before[i]!.map((h) => [`${h.clientId}#${h.requestId}`, h]))
          const now = new Map(table.info(name).holders.map((h) => [`${h.clientId}#${h.requestId}`, h]))
          for (const key of was.keys()) if (!now.has(key)) events.push({ kind: 'end', index: meta.index, name, holder: key, reason: command.op === 'expire' ? 'expired' : 'released' })
          for (const [key, h] of now) if (!was.has(key)) events.push({ kind: 'grant', index: meta.index, name, holder: key, token: h.token, mode: h.mode })
        })
        if (events.length > 0) record(meta.index, events)
        return result
      },
      snapshot: () => table.snapshot(),
      restore: (s) => table.restore(s),
      query: (q) => table.query(q),
    }
  }

  /** The merged log: each index as first applied, in index order. */
  log(): LeaseLogEvent[] {
    return [...this.first.keys()].sort((a, b) => a - b).flatMap((i) => this.first.get(i)!.events)
  }

  replicaLogs(): Record<string, LeaseLogEvent[]> {
    const out: Record<string, LeaseLogEvent[]> = {}
    for (const [replica, byIndex] of this.replicas) out[replica] = [...byIndex.keys()].sort((a, b) => a - b).flatMap((i) => byIndex.get(i)!)
    return out
  }

  /** When `holder`'s lease on `name` was first applied as expired (global ms), if it was. */
  expiredAt(name: string, holder: string): number | undefined {
    for (const { timeMs, events } of this.first.values()) {
      if (events.some((e) => e.kind === 'end' && e.reason === 'expired' && e.name === name && e.holder === holder)) return timeMs
    }
    return undefined
  }
}

function namesOf(command: LeaseCommand): string[] {
  try {
    if (command.op === 'expire') return [...new Set(command.items.map((i) => i.name))]
    if (command.op === 'renew') return [] // renewals never change holders
    return typeof command.name === 'string' ? [command.name] : []
  } catch {
    return []
  }
}

/** What the fenced counter saw: every judged access, and the writes it took. */
export class CounterLog {
  readonly fence: FenceEvent[] = []
  readonly writes: Array<{ token: number; value: number; holder: string }> = []
  value = 0
}

export type CounterProtocol = {
  read(p: { token: number; holder: string }): { ok: true; value: number } | { ok: false; highest: number }
  write(p: { token: number; holder: string; value: number }): { ok: true } | { ok: false; highest: number }
}

/** A counter behind a FenceGuard: reads and writes carry the holder's token; lower tokens are refused. */
export function counterDef(log: CounterLog, now: () => number, fenced = true) {
  const guard = new FenceGuard({ resource: 'counter' })
  const judge = (token: number, holder: string): boolean => {
    const accepted = fenced ? guard.accept(token) : true
    log.fence.push({ resource: 'counter', name: 'job', token, accepted, holder, timeMs: now() })
    return accepted
  }
  return defineActor({
    name: 'counter',
    initial: () => null,
    handlers: {
      read(_s, p: { token: number; holder: string }) {
        return judge(p.token, p.holder) ? { ok: true as const, value: log.value } : { ok: false as const, highest: guard.highestToken }
      },
      write(_s, p: { token: number; holder: string; value: number }) {
        if (!judge(p.token, p.holder)) return { ok: false as const, highest: guard.highestToken }
        log.value = p.value
        log.writes.push({ token: p.token, value: p.value, holder: p.holder })
        return { ok: true as const }
      },
    },
  })
}

export interface MemberApp {
  system: ActorSystem
  group: LeaseRaftGroup
  service: LeaseService
}

export interface ClientApp {
  system: ActorSystem
  group: LeaseRaftGroup
  leases: Leases[]
}

export const HOST = { tickMs: 50, electionTicks: 10, heartbeatTicks: 1 }

/** Boots a member of the lease group: WAL on the node's disk, the service judging expiry, every apply recorded. */
export function memberBoot(members: string[], applied: AppliedLeases, reapIntervalMs = 50) {
  return async (env: NodeEnv): Promise<MemberApp> => {
    const system = new ActorSystem({ ...env.system, askTimeoutMs: 2000 })
    await system.start()
    const wal = await WriteAheadLog.open(env.disk, { dir: 'raft', segmentBytes: 32 * 1024, maxSegments: 3 })
    const service = new LeaseService(system, { reapIntervalMs })
    const replica = `${env.name}#${env.incarnation}`
    const handle = (await group(system, {
      id: GROUP_ID,
      members,
      stateMachine: () => applied.wrap(replica, service.stateMachine()),
      storage: wal,
      snapshotEveryEntries: 200,
      requestTimeoutMs: 2000,
      attemptTimeoutMs: 500,
      host: HOST,
    })) as unknown as LeaseRaftGroup
    service.attach(replicaOf(handle))
    return { system, group: handle, service }
  }
}

/** Boots a client node: a forwarding group handle and `count` independent lease clients. */
export function clientBoot(members: string[], count: number, options: LeasesOptions = {}, onBoot?: (app: ClientApp, env: NodeEnv) => void) {
  return async (env: NodeEnv): Promise<ClientApp> => {
    const system = new ActorSystem({ ...env.system, askTimeoutMs: 2000 })
    await system.start()
    const handle = (await group(system, { id: GROUP_ID, members, requestTimeoutMs: 2000, attemptTimeoutMs: 500, host: HOST })) as unknown as LeaseRaftGroup
    const leases = Array.from({ length: count }, () => new Leases(system, handle, { requestTimeoutMs: 1000, ...options }))
    const app = { system, group: handle, leases }
    onBoot?.(app, env)
    return app
  }
}

/** A timer on the node's own clock (it stops with the node). */
export function sleep(system: ActorSystem, ms: number): Promise<void> {
  return new Promise((resolve) => system.clock.setTimer(ms, resolve))
}
