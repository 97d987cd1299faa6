import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { defineActor } from '@troupe/runtime'
import type { ActorRef, Signal } from '@troupe/runtime'
import { settle } from './helpers.js'
import { Counter, twoNodes } from './remote-helpers.js'

test('remote watch: Terminated when the remote actor stops, and node-down', async () => {
  const { a, b } = await twoNodes()
  const signals: Signal[] = []
  const Watcher = defineActor({
    initial: () => null,
    onSignal: (_s, sig) => void signals.push(sig),
    handlers: { watch: (_s, ref: ActorRef<any>, ctx) => ctx.watch(ref) },
  })
  const w = a.spawn(Watcher)
  const c = b.spawn(Counter, { name: 'c' })
  b.spawn(Counter, { name: 'd' })
  await w.ask('watch', a.remoteRef('b', '/user/c'))
  await w.ask('watch', a.remoteRef('b', '/user/d'))
  await settle()
  await b.stop(c)
  await settle()
  assert.is(signals.length, 1)
  assert.ok(signals[0].type === 'terminated' && signals[0].reason.kind === 'stopped' && signals[0].ref.path === '/user/c')
  a.nodeDown('b')
  await settle()
  assert.is(signals.length, 2)
  assert.ok(signals[1].type === 'terminated' && signals[1].reason.kind === 'node-down')
  await a.terminate()
  await b.terminate()
})

test.run()
