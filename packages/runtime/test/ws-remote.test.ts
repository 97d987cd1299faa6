import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { defineActor } from '@troupe/runtime'
import type { ActorRef, Signal } from '@troupe/runtime'
import { eventually, link, startNode, until } from './ws-helpers.js'

const Counter = defineActor({
  name: 'counter',
  initial: () => ({ n: 0, log: [] as number[] }),
  supervision: { onFailure: 'stop' },
  handlers: {
    add(s, by: number) {
      s.n += by
      s.log.push(by)
    },
    get: (s) => s.n,
    log: (s) => s.log,
    fail() {
      throw new Error('remote boom')
    },
    forward(_s, p: { to: ActorRef<{ add(n: number): void }>; n: number }) {
      p.to.tell('add', p.n)
    },
  },
})
type CounterP = { add(n: number): void; get(): number; log(): number[]; fail(): void; forward(p: { to: ActorRef<any>; n: number }): void }

const test = suite('ws remoting')

test('tell, ask and refs between two systems; order per sender is kept', async () => {
  const a = await startNode('a')
  const b = await startNode('b')
  link(a, b)
  try {
    b.system.spawn(Counter, { name: 'c' })
    const local = a.system.spawn(Counter, { name: 'local' })
    const remote = a.system.remoteRef<CounterP>('b', '/user/c')
    for (let i = 1; i <= 2000; i++) remote.tell('add', i)
    assert.is(await remote.ask('get'), (2000 * 2001) / 2)
    assert.equal(await remote.ask('log'), Array.from({ length: 2000 }, (_, i) => i + 1))
    remote.tell('forward', { to: local, n: 7 })
    await until(async () => (await local.ask('get')) === 7, 'the tell b forwarded with a ref to a reaches a')
    const err = await remote.ask('fail').then(() => null, (e) => e)
    assert.is(err?.code, 'HANDLER_FAILED')
    assert.is(a.transport.stats().open, 1)
    assert.is(b.transport.stats().open, 1)
  } finally {
    await a.stop()
    await b.stop()
  }
})

test('remote watch: Terminated arrives over the socket', async () => {
  const a = await startNode('a')
  const b = await startNode('b')
  link(a, b)
  try {
    const signals: Signal[] = []
    const Watcher = defineActor({
      initial: () => null,
      onSignal: (_s, sig) => void signals.push(sig),
      handlers: { watch: (_s, ref: ActorRef<any>, ctx) => ctx.watch(ref) },
    })
    const w = a.system.spawn(Watcher)
    const c = b.system.spawn(Counter, { name: 'c' })
    await w.ask('watch', a.system.remoteRef('b', '/user/c'))
    await a.system.remoteRef<CounterP>('b', '/user/c').ask('get') // the watch is on b before we stop c
    await b.system.stop(c)
    await eventually(() => signals.length === 1, 'Terminated from b')
    const s = signals[0]
    assert.ok(s.type === 'terminated' && s.reason.kind === 'stopped' && s.ref.path === '/user/c' && s.ref.node === 'b')
  } finally {
    await a.stop()
    await b.stop()
  }
})

test.run()
