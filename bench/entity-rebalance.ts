// Time for 10,000 entities spread over 3 nodes to be reachable again (every
// one answers an ask) after a 4th node joins, and after one of the 4 is
// killed. Baseline, in the same run: the cold start, i.e. the time for the
// same 10,000 entities to answer their first ask (all activations, no
// handoff). In-process nodes over MemoryNetwork: this measures the handoff
// protocol and activation work, not sockets.
import { ActorSystem, MemoryNetwork, defineActor } from '@troupe/runtime'
// Until @troupe/runtime exports sharding and the membership view.
import { Allocation, Sharding } from '@troupe/runtime'
import { FixedMembershipView as View } from '@troupe/runtime'
import { median, nowMs } from './lib.js'
import type { Figure } from './lib.js'

const ENTITIES = 10_000
const THREE = ['n1', 'n2', 'n3']
const FOUR = ['n1', 'n2', 'n3', 'n4']

const Counter = defineActor({
  name: 'counter',
  initial: () => ({ n: 0 }),
  handlers: {
    add(s, by: number) {
      s.n += by
      return s.n
    },
  },
})

interface Node {
  system: ActorSystem
  view: View
  sharding: Sharding
}

async function startNode(net: MemoryNetwork, name: string, members: string[]): Promise<Node> {
  const system = new ActorSystem({ name, transport: net.transport(), askTimeoutMs: 60_000 })
  await system.start()
  const view = new View(name, members)
  const sharding = Sharding.start(system, view, { shards: 1024, passivateAfterMs: 0 })
  sharding.register(Counter)
  return { system, view, sharding }
}

/** Every entity answers one ask, sent from the live nodes in turn; returns elapsed ms. */
async function askAll(nodes: Node[]): Promise<number> {
  const t0 = nowMs()
  const asks: Promise<number>[] = new Array(ENTITIES)
  for (let i = 0; i < ENTITIES; i++) asks[i] = nodes[i % nodes.length].sharding.entity(Counter, `entity-${i}`).ask('add', 1)
  await Promise.all(asks)
  return nowMs() - t0
}

/** Entities whose owner differs between two member sets. */
function movedBetween(a: string[], b: string[], sharding: Sharding): number {
  const before = Allocation.compute(a, sharding.shards)
  const after = Allocation.compute(b, sharding.shards)
  let moved = 0
  for (let i = 0; i < ENTITIES; i++) {
    const shard = sharding.shardOf(`entity-${i}`)
    if (before.ownerOf(shard) !== after.ownerOf(shard)) moved++
  }
  return moved
}

async function trial(): Promise<{ coldMs: number; joinMs: number; killMs: number }> {
  const net = new MemoryNetwork()
  const nodes = new Map<string, Node>()
  for (const name of THREE) nodes.set(name, await startNode(net, name, THREE))
  const coldMs = await askAll([...nodes.values()])

  const n4 = await startNode(net, 'n4', FOUR)
  nodes.set('n4', n4)
  // The clock starts when the old members learn of the join.
  const tJoin = nowMs()
  for (const name of THREE) nodes.get(name)!.view.set(FOUR)
  await askAll([...nodes.values()])
  const joinMs = nowMs() - tJoin

  // Kill n2: cut it off, tell the others it is down, and change their views.
  const killed = nodes.get('n2')!
  nodes.delete('n2')
  for (const name of nodes.keys()) net.partition('n2', name)
  const survivors = [...nodes.keys()]
  const tKill = nowMs()
  for (const node of nodes.values()) {
    node.system.nodeDown('n2')
    node.view.set(survivors)
  }
  await askAll([...nodes.values()])
  const killMs = nowMs() - tKill

  await Promise.all([...nodes.values(), killed].map((n) => n.system.terminate()))
  return { coldMs, joinMs, killMs }
}

export async function run(): Promise<Figure[]> {
  await trial()
  const runs = [await trial(), await trial(), await trial()]
  const cold = median(runs.map((r) => r.coldMs))
  const join = median(runs.map((r) => r.joinMs))
  const kill = median(runs.map((r) => r.killMs))
  const probe = Sharding.start(new ActorSystem({ name: 'probe' }), new View('probe', ['probe']), { shards: 1024 })
  const movedOnJoin = movedBetween(THREE, FOUR, probe)
  const movedOnKill = movedBetween(FOUR, ['n1', 'n3', 'n4'], probe)
  await probe.system.terminate()
  const baseline = `cold start: first ask to ${ENTITIES.toLocaleString('en-US')} entities over 3 nodes`
  return [
    { bench: 'entity-rebalance', metric: `reachable after a 4th joins (${movedOnJoin} moved)`, value: join, unit: 'ms', kind: 'latency', baseline, baselineValue: cold },
    { bench: 'entity-rebalance', metric: `reachable after 1 of 4 is killed (${movedOnKill} moved)`, value: kill, unit: 'ms', kind: 'latency', baseline, baselineValue: cold },
  ]
}
