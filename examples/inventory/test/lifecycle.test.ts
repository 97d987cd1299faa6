// An inventory node stopped the way an operator stops it, with three real
// processes on loopback: SIGTERM to the node that leads the restock job and
// owns a running order runs the coordinated shutdown of @troupe/node (API and
// job stop, sagas finish or are parked, leases released, the node leaves)
// and exits 0; the order still ends, another node takes the restock
// leadership, the survivors keep taking orders, and the stock adds up. The
// node then comes back on its data and serves again.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { OrderView } from '../src/inventory-node.js'
import type { StockView } from '../src/stock.js'
import { freePorts, startCluster, until, waitForCluster } from './fixtures/inventory-cluster.js'
import type { InventoryCluster, InventoryProcess } from './fixtures/inventory-cluster.js'

const NAMES = ['a', 'b', 'c']
const STARTUP_MS = 40_000
const SETTLE_MS = 30_000
const STOP_MS = 30_000

type Restock = { leader: { value: string; token: number } | null }
type Placed = { id: string; node: string }
const ENDED = new Set(['completed', 'compensated'])

async function orderEnds(via: InventoryProcess, id: string, tails: () => string): Promise<OrderView> {
  let view: OrderView | null = null
  await until(
    async () => {
      const r = await via.get<OrderView>(`/orders/${id}`).catch(() => null)
      view = r?.status === 200 ? r.body : null
      return view !== null && ENDED.has(view.state)
    },
    SETTLE_MS,
    () => `order ${id} did not end: ${JSON.stringify(view)}\n${tails()}`,
  )
  return view!
}

test('SIGTERM stops the restock leader cleanly (exit 0): its order ends, leadership moves, the rest keeps serving, it comes back', async () => {
  let cluster: InventoryCluster | null = null
  try {
    cluster = startCluster(NAMES, await freePorts(2 * NAMES.length), ['--restock-ms', '1000'])
    const c = cluster
    await waitForCluster(c, STARTUP_MS)
    const byName = (n: string) => c.nodes.find((p) => p.name === n)!
    let leader = ''
    await until(
      async () => {
        leader = (await c.nodes[0]!.get<Restock>('/restock')).body.leader?.value ?? ''
        return leader !== ''
      },
      STARTUP_MS,
      () => `no restock leader\n${c.tails()}`,
    )
    const stopping = byName(leader)
    const survivor = c.nodes.find((p) => p !== stopping)!

    // An order owned by the node that is about to stop, then SIGTERM at once.
    const placed = await stopping.post<Placed>('/orders', { sku: 'mug', qty: 1, warehouse: 'east' })
    assert.is(placed.status, 200, JSON.stringify(placed.body))
    const exit = await stopping.stopWith('SIGTERM')
    assert.equal(exit, { code: 0, signal: null }, stopping.tail(25))
    for (const phase of ['stop-work', 'sagas', 'release-leases', 'leave-cluster', 'close-listeners']) {
      assert.ok(stopping.lines.some((l) => l.includes(`shutdown phase ${phase}: done`)), `${phase}\n${stopping.tail(25)}`)
    }
    assert.ok(stopping.lines.some((l) => l.includes('shutdown finished')), stopping.tail(25))

    // The order ends (finished before the stop, or resumed by a survivor's recover loop).
    await orderEnds(survivor, placed.body.id, c.tails)

    // The restock job leads elsewhere now, with a newer token.
    await until(
      async () => {
        const l = (await survivor.get<Restock>('/restock')).body.leader
        return l !== null && l.value !== leader
      },
      SETTLE_MS,
      () => `restock leadership stayed with ${leader}\n${c.tails()}`,
    )

    // The survivors take orders, and the stock adds up.
    const next = await survivor.post<Placed>('/orders', { sku: 'shirt', qty: 2, warehouse: 'west' })
    assert.is(next.status, 200, JSON.stringify(next.body))
    await orderEnds(survivor, next.body.id, c.tails)
    const stock = (await survivor.get<{ warehouses: Record<string, StockView> }>('/stock')).body.warehouses
    for (const [w, view] of Object.entries(stock)) {
      for (const [sku, n] of Object.entries(view.skus)) assert.is(n.initial + n.restocked, n.available + n.reserved + n.shipped, `${w}/${sku}: ${JSON.stringify(n)}`)
    }

    // Back on its data: it joins again and serves.
    stopping.start()
    await waitForCluster(c, STARTUP_MS)
    const again = await stopping.post<Placed>('/orders', { sku: 'mug', qty: 1, warehouse: 'west' })
    assert.is(again.status, 200, JSON.stringify(again.body))
    await orderEnds(stopping, again.body.id, c.tails)
  } finally {
    await cluster?.stop()
  }
})

test.run()
