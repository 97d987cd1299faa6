// Shared pieces of the node tests: an entity kind, a Raft state machine, a
// saga, fast cluster settings, and a config builder for three nodes.
import { defineActor, entityId } from '@troupe/runtime'
import type { StateMachine } from '@troupe/raft'
import { saga } from '@troupe/saga'
import type { NodeConfig, NodeLog } from '../src/index.js'

export const Counter = defineActor({
  name: 'counter',
  initial: (ctx) => ({ id: entityId(ctx), n: 0 }),
  handlers: {
    add(s, by: number) {
      s.n += by
      return s.n
    },
    get: (s) => s.n,
    where: (_s, _: void, ctx) => ctx.system.name,
  },
})

export type KvCommand = { op: 'put'; key: string; value: string }
export type KvQuery = { op: 'get'; key: string }

export class KvMachine implements StateMachine<KvCommand, number, KvQuery, string | null> {
  private data = new Map<string, string>()
  private puts = 0
  apply(c: KvCommand): number {
    this.data.set(c.key, c.value)
    return ++this.puts
  }
  query(q: KvQuery): string | null {
    return this.data.get(q.key) ?? null
  }
  snapshot(): unknown {
    return [...this.data]
  }
  restore(s: unknown): void {
    this.data = new Map(s as Array<[string, string]>)
  }
}

export const transfer = saga<{ amount: number }>('transfer')
  .step('debit', { do: (i) => ({ debited: i.amount }) })
  .step('credit', { do: (i) => ({ credited: i.amount }) })

/** Fast failure detection for tests (still tolerant of a busy machine). */
export const FAST_CLUSTER = { heartbeatIntervalMs: 100, gossipIntervalMs: 100, acceptableHeartbeatPauseMs: 3000, stableAfterMs: 3000, seedTimeoutMs: 500 }

export const SECRET = 'node-tests-shared-cluster-secret'

/** Collects log lines; prints warnings and errors when TROUPE_TEST_LOG is set. */
export function testLog(lines: string[], name: string): NodeLog {
  return (level, message) => {
    lines.push(`${name} ${level} ${message}`)
    if (process.env.TROUPE_TEST_LOG) console.log(`[${name}] ${level} ${message}`)
  }
}

export function services(): NonNullable<NodeConfig['services']> {
  return {
    sharding: { entities: [Counter], shards: 64, handoffTimeoutMs: 2000 },
    raft: { tickMs: 20 },
    leases: {},
    sagas: { definitions: [transfer], recoverEveryMs: 500 },
    pubsub: true,
  }
}

/** Retries `fn` until it resolves (typed retryable errors while a cluster settles), at most `attempts` times. */
export async function eventually<T>(fn: () => Promise<T>, attempts = 50, pauseMs = 100): Promise<T> {
  let last: unknown
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn()
    } catch (err) {
      last = err
      await new Promise((r) => setTimeout(r, pauseMs))
    }
  }
  throw last
}
