// What test/pack.test.ts compiles and runs in a fresh project outside the
// repo, against the packed tarballs: every entry point of every package is
// imported, and each package does one real thing. Prints one `ok <what>`
// line per check and `done` at the end; exits non-zero on any failure.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ActorSystem, defineActor, MemoryNetwork, NodeDisk } from '@troupe/runtime'
import { errorCode, TroupeError } from '@troupe/runtime/errors'
import { fnv1a32 } from '@troupe/runtime/hash'
import * as raft from '@troupe/raft'
import { bootstrapState, RaftCore } from '@troupe/raft/core'
import { FenceGuard, Leases, openLeaseGroup } from '@troupe/lease'
import { startNode } from '@troupe/node'
import { MemorySagaLog, saga, SagaCoordinator } from '@troupe/saga'
import { SimWorld } from '@troupe/testkit'
import { runTranscript } from '@troupe/testkit/transcripts'

const check = (what: string, ok: boolean, detail: unknown = '') => {
  if (!ok) throw new Error(`check failed: ${what} ${JSON.stringify(detail)}`)
  console.log(`ok ${what}`)
}

const Counter = defineActor({
  initial: () => ({ count: 0 }),
  handlers: {
    add(state, by: number) {
      state.count += by
    },
    get: (state) => state.count,
  },
})

type KvCommand = { key: string; value: string }
class Kv implements raft.StateMachine<KvCommand, number, string, string | null> {
  private readonly map = new Map<string, string>()
  apply(c: KvCommand) {
    this.map.set(c.key, c.value)
    return this.map.size
  }
  snapshot() {
    return [...this.map]
  }
  restore(s: unknown) {
    for (const [k, v] of s as [string, string][]) this.map.set(k, v)
  }
  query(key: string) {
    return this.map.get(key) ?? null
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'troupe-consumer-'))
const net = new MemoryNetwork()
const members = ['a', 'b', 'c']
const nodes = await Promise.all(
  members.map(async (name) => {
    const system = new ActorSystem({ name, transport: net.transport() })
    await system.start()
    const wal = await raft.WriteAheadLog.open(new NodeDisk(join(dataDir, name)), { dir: 'raft' })
    const kv = await raft.group(system, { id: 'kv', members, stateMachine: () => new Kv(), storage: wal })
    const { group } = await openLeaseGroup(system, { id: 'locks', members, storage: wal })
    return { system, wal, kv, leases: new Leases(system, group) }
  }),
)
const [a, b] = [nodes[0]!, nodes[1]!]
try {
  // runtime: a local actor and a remote ask over the memory network
  const counter = a.system.spawn(Counter, { name: 'counter' })
  counter.tell('add', 2)
  check('runtime ask', (await counter.ask('get', undefined, { timeoutMs: 2000 })) === 2)
  const remote: typeof counter = b.system.remoteRef('a', '/user/counter')
  check('runtime remote ask', (await remote.ask('get', undefined, { timeoutMs: 2000 })) === 2)
  check('runtime/errors', errorCode(new TroupeError('ASK_TIMEOUT', 'x')) === 'ASK_TIMEOUT')
  check('runtime/hash', fnv1a32('troupe') === fnv1a32('troupe') && typeof fnv1a32('x') === 'number')

  // raft: a replicated write on a write-ahead log, read back from another node
  check('raft propose', (await a.kv.propose({ key: 'k', value: 'v1' })) >= 1)
  check('raft read', (await b.kv.read('k')) === 'v1')
  const core = new RaftCore({ id: 'x', random: Math.random }, bootstrapState({ voters: ['x'], learners: [] }))
  check('raft/core', core.status().role === 'follower', core.status().role)

  // lease: an exclusive lease with a fencing token
  const guard = new FenceGuard({ resource: 'r' })
  const lease = await a.leases.acquire('job', { ttlMs: 5000 })
  guard.check(lease.token)
  check('lease acquire', lease.token > 0, lease.token)
  await lease.release()

  // saga: a two-step saga whose second step fails is compensated
  let reserved = 0
  const order = saga<{ qty: number }>('order')
    .step('reserve', { do: (o) => (reserved += o.qty), undo: (o) => void (reserved -= o.qty) })
    .step('charge', { do: () => { throw new Error('declined') }, retry: { attempts: 1 } })
  const sagas = new SagaCoordinator({ system: a.system, log: new MemorySagaLog(), definitions: [order], report: () => {} })
  const outcome = await sagas.run(order, { qty: 3 }, { id: 'o1' })
  check('saga compensated', outcome.status === 'compensated' && reserved === 0, outcome.status)

  // node: a node in one call (on an injected transport), up and shut down
  const solo = await startNode({ name: 'solo', transport: new MemoryNetwork().transport(), installSignalHandlers: false, log: () => {} })
  check('node whenUp', (await solo.whenUp({ timeoutMs: 10_000 })).includes('solo'))
  await solo.shutdown()

  // testkit: a seeded world runs on virtual time
  const world = new SimWorld({ seed: 7 })
  world.addNode('n1', async (env) => {
    const system = new ActorSystem(env.system)
    await system.start()
    return { system }
  })
  await world.waitUntilUp()
  await world.runFor(1000)
  check('testkit SimWorld', /^[0-9a-f]+$/.test(world.traceHash), world.traceHash)
  const result = runTranscript('echo hi\n----\nhi\n', (command, _args, line) => line.slice(command.length + 1))
  check('testkit/transcripts', result.failures.length === 0, result.failures)
} finally {
  for (const n of nodes) await n.system.terminate()
  for (const n of nodes) await n.wal.close()
  rmSync(dataDir, { recursive: true, force: true })
}
console.log('done')
