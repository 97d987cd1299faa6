// The quick-start demo: three nodes in one process, actors talking across
// them, a supervisor restarting a crashed actor, and death watch.
// Run: pnpm demo
import { ActorSystem, MemoryNetwork, defineActor } from '@troupe/runtime'
import type { ActorRef } from '@troupe/runtime'

type AccountProtocol = { deposit(amount: number): number; withdraw(amount: number): number; balance(): number }

const Account = defineActor({
  name: 'account',
  initial: () => ({ balance: 0 }),
  supervision: { onFailure: 'restart', maxRestarts: 3, withinMs: 10_000, backoff: { minMs: 50, maxMs: 1000 } },
  handlers: {
    deposit(s, amount: number) {
      if (!(amount > 0)) throw new Error(`invalid amount ${amount}`)
      return (s.balance += amount)
    },
    withdraw(s, amount: number) {
      if (amount > s.balance) throw new Error(`insufficient funds: ${s.balance} < ${amount}`)
      return (s.balance -= amount)
    },
    balance: (s) => s.balance,
  },
})

const Teller = defineActor({
  name: 'teller',
  initial: () => ({ transfers: 0 }),
  handlers: {
    async transfer(s, t: { from: ActorRef<AccountProtocol>; to: ActorRef<AccountProtocol>; amount: number }) {
      await t.from.ask('withdraw', t.amount, { timeoutMs: 1000 })
      await t.to.ask('deposit', t.amount, { timeoutMs: 1000 })
      return ++s.transfers
    },
  },
  onSignal(_s, signal) {
    if (signal.type === 'terminated') console.log(`  teller saw ${signal.ref.node}${signal.ref.path} stop (${signal.reason.kind})`)
  },
})

const net = new MemoryNetwork()
const nodes = ['alpha', 'beta', 'gamma'].map((name) => new ActorSystem({ name, transport: net.transport() }))
await Promise.all(nodes.map((n) => n.start()))
const [alpha, beta, gamma] = nodes
console.log('3 nodes up:', nodes.map((n) => n.name).join(', '))

beta.spawn(Account, { name: 'ann' })
gamma.spawn(Account, { name: 'bob' })
const ann = alpha.remoteRef<AccountProtocol>('beta', '/user/ann')
const bob = alpha.remoteRef<AccountProtocol>('gamma', '/user/bob')
const teller = alpha.spawn(Teller, { name: 'teller' })

console.log('ann deposits 100 (alpha → beta):', await ann.ask('deposit', 100))
console.log('transfer 30 ann → bob via the teller on alpha: transfer #', await teller.ask('transfer', { from: ann, to: bob, amount: 30 }))
console.log('balances:', { ann: await ann.ask('balance'), bob: await bob.ask('balance') })

try {
  await teller.ask('transfer', { from: bob, to: ann, amount: 500 })
} catch (err) {
  console.log('overdraft rejected with', (err as { code?: string }).code, '-', (err as Error).message)
}
console.log('bob was restarted by his supervisor (fresh state after backoff): balance', await bob.ask('balance'))

let watched = 0
const Watcher = defineActor({
  initial: () => null,
  handlers: { watch: (_s, ref: ActorRef<AccountProtocol>, ctx) => ctx.watch(ref) },
  onSignal(_s, signal) {
    if (signal.type === 'terminated') {
      watched++
      console.log(`watcher on alpha: ${signal.ref.node}${signal.ref.path} terminated (${signal.reason.kind})`)
    }
  },
})
const watcher = alpha.spawn(Watcher)
await watcher.ask('watch', ann)
await beta.stop(beta.lookup('/user/ann')!)
while (watched === 0) await new Promise((r) => setTimeout(r, 5))

const sent = Date.now()
let n = 0
const Sink = defineActor({ initial: () => null, handlers: { hit: () => void n++ } })
const sink = gamma.spawn(Sink, { name: 'sink' })
const remoteSink = alpha.remoteRef<{ hit(): void }>('gamma', sink.path)
for (let i = 0; i < 100_000; i++) remoteSink.tell('hit')
while (n < 100_000) await new Promise((r) => setTimeout(r, 1))
console.log(`100,000 cross-node tells (in-memory transport, CBOR-encoded) in ${Date.now() - sent} ms`)

await Promise.all(nodes.map((s) => s.terminate()))
console.log('all nodes stopped cleanly')
