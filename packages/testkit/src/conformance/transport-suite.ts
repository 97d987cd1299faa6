import { defineActor } from '@troupe/runtime'
import type { ActorRef, ActorSystem } from '@troupe/runtime'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'

/**
 * A cluster of started ActorSystems on the transport under test, with the
 * controls the suite needs. Real transports let real time pass; the
 * simulated one runs its world on virtual time.
 */
export interface TransportCluster {
  /** Started systems by node name; they can reach each other. */
  readonly systems: Readonly<Record<string, ActorSystem>>
  /** Cuts every node of `a` from every node of `b`, both ways, until `heal`. */
  partition(a: string[], b: string[]): void | Promise<void>
  /** Removes all partitions; traffic flows again (reconnecting if the transport must). */
  heal(): void | Promise<void>
  /** Lets `ms` of time pass, delivering whatever is due. */
  wait(ms: number): Promise<void>
  /** Settles `promise`, letting time pass as needed (at most `maxMs`). */
  settle<T>(promise: Promise<T>, maxMs: number): Promise<T>
  close(): Promise<void>
}

export interface TransportSuiteOptions {
  /** Ask timeout the suite uses where it expects timeouts (default 200 ms). */
  askTimeoutMs?: number
  /** Time allowed for anything that should succeed (default 5000 ms). */
  patienceMs?: number
}

type Note = { from: string; n: number }
type RecorderProtocol = {
  note(p: Note): void
  log(): Note[]
  echo(x: unknown): unknown
  silent(): never
  callBack(p: { ref: ActorRef<RecorderProtocol>; n: number }): void
  makeChild(name: string): ActorRef<RecorderProtocol>
}

const Child = defineActor({
  name: 'conformance-child',
  initial: () => ({ got: [] as Note[] }),
  handlers: {
    note: (s, p: Note) => void s.got.push(p),
    log: (s) => s.got,
  },
})

const Recorder = defineActor({
  name: 'conformance-recorder',
  initial: () => ({ got: [] as Note[] }),
  handlers: {
    note: (s, p: Note) => void s.got.push(p),
    log: (s) => s.got,
    echo: (_s, x: unknown) => x,
    silent: (_s, _: void, ctx) => void ctx.deferReply(),
    callBack: (_s, p: { ref: ActorRef<{ note(p: Note): void }>; n: number }, ctx) => p.ref.tell('note', { from: ctx.system.name, n: p.n }),
    makeChild: (_s, name: string, ctx) => ctx.spawn(Child, { name }),
  },
})

const NODES = ['a', 'b', 'c']

/**
 * The contract every Transport keeps under remoting, as one uvu suite:
 * per-pair FIFO, refs inside messages, ask and ask timeout across nodes, and
 * partition/heal. Returns the suite; the caller runs it. `makeCluster` gets
 * the node names and returns a fresh cluster for each test.
 */
export function transportConformance(name: string, makeCluster: (names: string[]) => Promise<TransportCluster>, options: TransportSuiteOptions = {}) {
  const askTimeoutMs = options.askTimeoutMs ?? 200
  const patienceMs = options.patienceMs ?? 5000
  const test = suite<{ cluster: TransportCluster }>(`Transport conformance: ${name}`, { cluster: undefined as unknown as TransportCluster })

  test.before.each(async (ctx) => {
    ctx.cluster = await makeCluster(NODES)
    for (const node of NODES) ctx.cluster.systems[node]!.spawn(Recorder, { name: 'rec' })
  })
  test.after.each(async (ctx) => {
    await ctx.cluster.close()
  })

  const rec = (cluster: TransportCluster, from: string, to: string) => cluster.systems[from]!.remoteRef<RecorderProtocol>(to, '/user/rec')
  const ask = <T>(cluster: TransportCluster, p: Promise<T>) => cluster.settle(p, patienceMs)

  test('messages from one sender to one receiver arrive in the order sent', async ({ cluster }) => {
    const fromA = rec(cluster, 'a', 'b')
    const fromC = rec(cluster, 'c', 'b')
    // Remoting batches a turn's messages into one frame: spread them over
    // many turns so that many frames are in flight at once.
    for (let n = 0; n < 300; n++) {
      fromA.tell('note', { from: 'a', n })
      if (n % 3 === 0) fromC.tell('note', { from: 'c', n })
      if (n % 3 === 2) await cluster.wait(1)
    }
    // Asks travel on the same pairs, so they arrive after the tells.
    await ask(cluster, fromA.ask('echo', 'barrier'))
    await ask(cluster, fromC.ask('echo', 'barrier'))
    const log = await ask(cluster, fromA.ask('log'))
    const seqA = log.filter((x) => x.from === 'a').map((x) => x.n)
    const seqC = log.filter((x) => x.from === 'c').map((x) => x.n)
    assert.equal(seqA, Array.from({ length: 300 }, (_, n) => n), 'a→b in order, none lost or doubled')
    assert.equal(seqC, Array.from({ length: 100 }, (_, i) => i * 3), 'c→b in order, none lost or doubled')
  })

  test('refs inside messages work on arrival, both ways', async ({ cluster }) => {
    const aLocal = cluster.systems.a!.lookup('/user/rec') as ActorRef<RecorderProtocol>
    const bRec = rec(cluster, 'a', 'b')
    bRec.tell('callBack', { ref: aLocal, n: 7 })
    // b's note to a and its reply to this ask share the pair b→a: the note lands first.
    await ask(cluster, bRec.ask('echo', 'barrier'))
    assert.equal(await ask(cluster, aLocal.ask('log')), [{ from: 'b', n: 7 }], 'b reached a through the ref it received')
    const child = await ask(cluster, bRec.ask('makeChild', 'kid'))
    assert.is(child.node, 'b')
    assert.is(child.path, '/user/rec/kid')
    child.tell('note', { from: 'a', n: 1 })
    assert.equal(await ask(cluster, child.ask('log')), [{ from: 'a', n: 1 }], 'a ref returned in a reply works')
    const echoed = await ask(cluster, bRec.ask('echo', aLocal))
    assert.ok((echoed as ActorRef).equals(aLocal), 'a ref sent there and back is the same actor')
  })

  test('ask resolves across nodes; a silent actor times out with ASK_TIMEOUT', async ({ cluster }) => {
    assert.equal(await ask(cluster, rec(cluster, 'a', 'c').ask('echo', { x: [1, 'two', null] })), { x: [1, 'two', null] })
    const silent = rec(cluster, 'a', 'b').ask('silent', undefined, { timeoutMs: askTimeoutMs })
    await rejectsWith(cluster.settle(silent, patienceMs), 'ASK_TIMEOUT')
    const missing = cluster.systems.a!.remoteRef('b', '/user/nobody').ask('echo', 1, { timeoutMs: patienceMs })
    await rejectsWith(cluster.settle(missing, patienceMs), 'ACTOR_NOT_FOUND')
  })

  test('a partition loses messages and times asks out; after heal traffic flows again', async ({ cluster }) => {
    const ab = rec(cluster, 'a', 'b')
    const ac = rec(cluster, 'a', 'c')
    ab.tell('note', { from: 'a', n: 1 })
    await ask(cluster, ab.ask('echo', 'barrier'))
    await cluster.partition(['a'], ['b'])
    ab.tell('note', { from: 'a', n: 2 })
    await rejectsWith(cluster.settle(ab.ask('echo', 'cut', { timeoutMs: askTimeoutMs }), patienceMs), 'ASK_TIMEOUT')
    assert.is(await ask(cluster, ac.ask('echo', 'other side')), 'other side', 'a still reaches c')
    await cluster.wait(askTimeoutMs)
    await cluster.heal()
    const again = await eventually(cluster, () => ab.ask('echo', 'healed', { timeoutMs: askTimeoutMs }), patienceMs / askTimeoutMs)
    assert.is(again, 'healed')
    ab.tell('note', { from: 'a', n: 3 })
    const log = await ask(cluster, ab.ask('log'))
    assert.equal(log.map((x) => x.n), [1, 3], 'the message sent during the partition is lost, none doubled, order kept')
  })

  return test
}

/** Retries `attempt` until it resolves (a healed link may need to reconnect first). */
async function eventually<T>(cluster: TransportCluster, attempt: () => Promise<T>, attempts: number): Promise<T> {
  let lastError: unknown
  for (let i = 0; i < Math.max(1, attempts); i++) {
    try {
      return await cluster.settle(attempt(), 60_000)
    } catch (err) {
      lastError = err
      await cluster.wait(50)
    }
  }
  throw lastError
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  try {
    await promise
  } catch (err) {
    assert.is((err as { code?: string }).code, code, String(err))
    return
  }
  assert.unreachable(`expected a rejection with ${code}`)
}
