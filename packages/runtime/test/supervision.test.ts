import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { defineActor } from '@troupe/runtime'
import type { ActorRef, Signal, SupervisionStrategy } from '@troupe/runtime'
import { advance, manualSystem, rejectsWith, settle } from './helpers.js'

let starts = 0
const Fragile = defineActor({
  name: 'fragile',
  initial: () => ({ count: 0 }),
  onStart() {
    starts++
  },
  handlers: {
    inc(state) {
      return ++state.count
    },
    boom(_state, message: string) {
      throw new Error(message)
    },
    async asyncBoom() {
      await Promise.resolve()
      throw new Error('async boom')
    },
  },
})

test('handler throws: the asker gets HANDLER_FAILED with the cause; restart gives fresh state', async () => {
  const { system } = manualSystem()
  const a = system.spawn(Fragile)
  await a.ask('inc')
  await a.ask('inc')
  const err = await rejectsWith(a.ask('boom', 'bad input'), 'HANDLER_FAILED')
  assert.match(err.message, /bad input/)
  assert.is((err.cause as Error).message, 'bad input')
  assert.is(await a.ask('inc'), 1, 'state was reset by the restart')
  await rejectsWith(a.ask('asyncBoom'), 'HANDLER_FAILED')
  assert.is(await a.ask('inc'), 1)
  await system.terminate()
})

test('resume keeps the state', async () => {
  const { system } = manualSystem()
  const a = system.spawn(Fragile, { supervision: { onFailure: 'resume' } })
  await a.ask('inc')
  await rejectsWith(a.ask('boom', 'x'), 'HANDLER_FAILED')
  assert.is(await a.ask('inc'), 2)
  await system.terminate()
})

test('restart with exponential backoff waits on the clock; messages queue meanwhile', async () => {
  const { system, clock } = manualSystem()
  const strategy: SupervisionStrategy = { onFailure: 'restart', maxRestarts: 10, withinMs: 60_000, backoff: { minMs: 100, maxMs: 1000, factor: 2, jitter: 0 } }
  const a = system.spawn(Fragile, { supervision: strategy })
  starts = 0
  await settle()
  assert.is(starts, 1)
  a.tell('boom', '1')
  const pending = a.ask('inc', undefined, { timeoutMs: 50_000 })
  await settle()
  await advance(clock, 90)
  assert.is(starts, 1, 'not restarted before 100 ms')
  await advance(clock, 20)
  assert.is(starts, 2, 'restarted after the first backoff (100 ms)')
  assert.is(await pending, 1, 'the queued message was handled by the new incarnation')
  a.tell('boom', '2')
  await settle()
  await advance(clock, 190)
  assert.is(starts, 2, 'second backoff is 200 ms')
  await advance(clock, 20)
  assert.is(starts, 3)
  await system.terminate()
})

test('max restarts within the window: the child stops and the parent is told (child-failed)', async () => {
  const { system } = manualSystem()
  const signals: Signal[] = []
  let child!: ActorRef<any>
  const Parent = defineActor({
    initial: () => null,
    onStart(_s, ctx) {
      child = ctx.spawn(Fragile, { name: 'kid', supervision: { onFailure: 'restart', maxRestarts: 2, withinMs: 10_000 } })
    },
    onSignal(_s, signal) {
      signals.push(signal)
    },
    handlers: { ping: () => 'pong' },
  })
  const p = system.spawn(Parent)
  await p.ask('ping')
  for (let i = 0; i < 3; i++) {
    await rejectsWith(child.ask('boom', `fail ${i}`), 'HANDLER_FAILED')
    await settle()
  }
  await settle()
  assert.is(signals.length, 1)
  const s = signals[0]
  assert.is(s.type, 'child-failed')
  assert.is(s.ref.path, child.path)
  assert.is(s.type === 'child-failed' && (s.error as Error).message, 'fail 2')
  await rejectsWith(child.ask('inc'), 'ACTOR_STOPPED')
  await system.terminate()
})

test('restart counts only failures inside the window', async () => {
  const { system, clock } = manualSystem()
  const a = system.spawn(Fragile, { supervision: { onFailure: 'restart', maxRestarts: 2, withinMs: 1000 } })
  for (let i = 0; i < 6; i++) {
    await rejectsWith(a.ask('boom', 'x'), 'HANDLER_FAILED')
    await advance(clock, 600, 100)
  }
  assert.is(await a.ask('inc'), 1, 'still alive: never more than 2 failures per 1000 ms')
  await system.terminate()
})

test("stop strategy stops the child; 'escalate' fails the parent, whose strategy then applies", async () => {
  const { system } = manualSystem()
  const a = system.spawn(Fragile, { supervision: { onFailure: 'stop' } })
  await rejectsWith(a.ask('boom', 'x'), 'HANDLER_FAILED')
  await settle()
  await rejectsWith(a.ask('inc'), 'ACTOR_STOPPED')

  let parentStarts = 0
  let kid!: ActorRef<any>
  const Parent = defineActor({
    initial: () => ({ n: 0 }),
    onStart(_s, ctx) {
      parentStarts++
      kid = ctx.spawn(Fragile, { name: 'kid', supervision: { onFailure: 'escalate' } })
    },
    handlers: {
      inc(state) {
        return ++state.n
      },
    },
  })
  const p = system.spawn(Parent)
  await p.ask('inc')
  await p.ask('inc')
  const firstKid = kid
  await rejectsWith(firstKid.ask('boom', 'up'), 'HANDLER_FAILED')
  await settle()
  assert.is(parentStarts, 2, 'the parent was restarted')
  assert.is(await p.ask('inc'), 1, 'with fresh state')
  assert.ok(!kid.equals(firstKid), 'and a new child')
  await system.terminate()
})

test('failure in onStart is supervised like a handler failure', async () => {
  const { system } = manualSystem()
  let attempts = 0
  const BadStart = defineActor({
    initial: () => null,
    onStart() {
      attempts++
      if (attempts < 3) throw new Error('not yet')
    },
    handlers: { ok: () => 'ok' },
  })
  const b = system.spawn(BadStart)
  assert.is(await b.ask('ok'), 'ok')
  assert.is(attempts, 3)
  await system.terminate()
})

test.run()
