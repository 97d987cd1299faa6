import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ActorSystem, MemoryNetwork, NodeDisk } from '@troupe/runtime'
import * as raft from '@troupe/raft'

type StockCommand = { op: 'add'; sku: string; n: number }
type StockQuery = { sku: string }

// The replicated state: deterministic (no clock, randomness or I/O in apply).
class Stock implements raft.StateMachine<StockCommand, number, StockQuery, number> {
  private counts = new Map<string, number>()
  apply(c: StockCommand): number {
    const n = (this.counts.get(c.sku) ?? 0) + c.n
    this.counts.set(c.sku, n)
    return n // what propose() resolves with
  }
  snapshot() {
    return [...this.counts] // any CBOR-encodable value
  }
  restore(s: unknown) {
    this.counts = new Map(s as [string, number][])
  }
  query(q: StockQuery): number {
    return this.counts.get(q.sku) ?? 0
  }
}

// Three nodes in one process; across processes each gets a WebSocketTransport.
const dataDir = mkdtempSync(join(tmpdir(), 'raft-example-'))
const net = new MemoryNetwork()
const members = ['a', 'b', 'c']
const nodes = await Promise.all(
  members.map(async (name) => {
    const system = new ActorSystem({ name, transport: net.transport() })
    await system.start()
    // One write-ahead log per node, in its data dir, shared by all its groups.
    const wal = await raft.WriteAheadLog.open(new NodeDisk(join(dataDir, name)), { dir: 'raft' })
    const stock = await raft.group(system, { id: 'stock', members, stateMachine: () => new Stock(), storage: wal })
    return { system, wal, stock }
  }),
)

const [a, b] = [nodes[0]!, nodes[1]!]
console.log(await a.stock.propose({ op: 'add', sku: 'apple', n: 5 })) // 5: committed on a majority (fdatasynced), applied
console.log(await b.stock.read({ sku: 'apple' })) // 5: a linearizable read, on any member

for (const node of nodes) {
  await node.system.terminate()
  await node.wal.close()
}
rmSync(dataDir, { recursive: true })
