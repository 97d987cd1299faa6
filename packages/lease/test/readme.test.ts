// The README example, run as written (real clock and timers, three nodes in
// one process over a MemoryNetwork). Prints how long it took; asserts only
// what the example promises.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, MemoryNetwork } from '@troupe/runtime'
import { FenceGuard, isLeaseError, Leases, openLeaseGroup } from '@troupe/lease'

test('README example', async () => {
  const started = performance.now()
  // --- README example start ---
  const net = new MemoryNetwork()
  const members = ['a', 'b', 'c']
  const nodes = await Promise.all(
    members.map(async (name) => {
      const system = new ActorSystem({ name, transport: net.transport() })
      await system.start()
      const { group } = await openLeaseGroup(system, { id: 'locks', members })
      return { system, leases: new Leases(system, group) }
    }),
  )

  // The protected resource keeps a FenceGuard next to its data.
  let stock = 0
  const guard = new FenceGuard({ resource: 'stock' })
  const restock = (token: number, amount: number) => {
    guard.check(token) // throws FENCED for a token older than one it has seen
    stock += amount
  }

  const [a, b] = [nodes[0]!.leases, nodes[1]!.leases]
  await a.withLease('restock-job', async (token, signal) => {
    if (!signal.aborted) restock(token, 10)
  }, { ttlMs: 5000 })

  // Leader election: the first campaigner leads; the next one waits its turn.
  const leadership = await a.campaign('primary', 'node-a', { ttlMs: 5000 })
  console.log(await b.leader('primary')) // { value: 'node-a', token: ..., clientId: ... }
  await leadership.release()

  // A stale holder is refused by the guard.
  const old = await a.acquire('restock-job', { ttlMs: 5000 })
  await old.release()
  const fresh = await b.acquire('restock-job', { ttlMs: 5000 })
  restock(fresh.token, 5)
  try {
    restock(old.token, 1)
  } catch (err) {
    console.log(isLeaseError(err, 'FENCED')) // true
  }
  await fresh.release()

  for (const { system } of nodes) await system.terminate()
  // --- README example end ---
  assert.is(stock, 15)
  assert.ok(guard.highestToken === fresh.token)
  console.log(`  README example ran in ${Math.round(performance.now() - started)} ms`)
})

test.run()
