import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, ManualClock, MemoryNetwork, defineActor } from '@troupe/runtime'
import type { ActorRef, DeferredReply, Signal } from '@troupe/runtime'
import { settle } from './helpers.js'
import { TestCluster } from './cluster-helpers.js'

const NodeDown = suite('asks and watches to a node the cluster declared down')

const Echo = defineActor({ initial: () => null, handlers: { echo: (_s, v: string) => v } })

NodeDown('new asks to a downed node fail at once with NODE_UNREACHABLE, new watches fire at once; a new incarnation is reachable again', async () => {
  const c = new TestCluster()
  await c.startAll(['a', 'b', 'c'])
  c.node('c').system.spawn(Echo, { name: 'echo' })
  const a = c.node('a').system
  const echo = a.remoteRef<{ echo(v: string): string }>('c', '/user/echo')
  assert.is(await echo.ask('echo', 'before', { timeoutMs: 60_000 }), 'before')
  c.partition(['a', 'b'], ['c'])
  await c.until(() => c.allUp(['a', 'b']), 10_000, 'c downed and removed')

  const askedAt = c.clock.now()
  let outcome: string | null = null
  echo.ask('echo', 'while down', { timeoutMs: 60_000 }).then(
    () => (outcome = 'resolved'),
    (e) => (outcome = e.code),
  )
  const signals: Signal[] = []
  const Watcher = defineActor({
    initial: () => null,
    onSignal: (_s, sig) => void signals.push(sig),
    handlers: { watch: (_s, ref: ActorRef<any>, ctx) => ctx.watch(ref) },
  })
  await a.spawn(Watcher).ask('watch', echo)
  await settle(5)
  assert.is(c.clock.now(), askedAt, 'no virtual time passed')
  assert.is(outcome, 'NODE_UNREACHABLE', 'the ask failed without waiting for its timeout')
  assert.is(signals.length, 1)
  assert.ok(signals[0]!.type === 'terminated' && signals[0]!.reason.kind === 'node-down')

  // c restarts (a new incarnation) and joins: asks reach it again.
  await c.node('c').system.terminate()
  c.net.heal()
  const fresh = await c.add('c')
  fresh.system.spawn(Echo, { name: 'echo' })
  await c.until(() => c.allUp(['a', 'b', 'c']), 5000, 'the new c is up')
  assert.is(await echo.ask('echo', 'after', { timeoutMs: 60_000 }), 'after')
  await c.terminateAll()
})

NodeDown('a node restarted under the same name never gets a reply meant for its earlier run', async () => {
  const net = new MemoryNetwork()
  const clock = new ManualClock(1_000_000)
  const held: Array<DeferredReply<string>> = []
  const Holder = defineActor({
    initial: () => null,
    handlers: {
      hold: (_s, _: void, ctx) => void held.push(ctx.deferReply<string>()),
      echo: (_s, v: string) => v,
    },
  })
  const b = new ActorSystem({ name: 'b', clock, transport: net.transport(), askTimeoutMs: 60_000 })
  await b.start()
  b.spawn(Holder, { name: 'holder' })
  const first = new ActorSystem({ name: 'a', clock, transport: net.transport(), askTimeoutMs: 60_000 })
  await first.start()
  void first.remoteRef('b', '/user/holder').ask('hold').catch(() => {})
  await settle(5)
  assert.is(held.length, 1)
  await first.terminate()
  clock.advance(1)
  const second = new ActorSystem({ name: 'a', clock, transport: net.transport(), askTimeoutMs: 60_000 })
  await second.start()
  let answer: string | null = null
  void second
    .remoteRef<{ hold(): string }>('b', '/user/holder')
    .ask('hold')
    .then((v) => (answer = v))
  await settle(5)
  // The first run's ask is answered only now, and the reply reaches the second run.
  held[0]!.resolve('meant for the first run')
  await settle(5)
  assert.is(answer, null, 'the reply to the earlier run did not answer this run')
  held[1]!.resolve('meant for the second run')
  await settle(5)
  assert.is(answer, 'meant for the second run')
  await second.terminate()
  await b.terminate()
})

NodeDown.run()
