import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { defineActor } from '@troupe/runtime'
import { advance, manualSystem, rejectsWith, settle } from './helpers.js'

const Ticker = defineActor({
  initial: () => ({ ticks: [] as string[] }),
  handlers: {
    once(_s, p: { key: string; ms: number; label: string }, ctx) {
      ctx.timers.startSingle(p.key, p.ms, 'tick', p.label)
    },
    every(_s, p: { key: string; ms: number; label: string }, ctx) {
      ctx.timers.startPeriodic(p.key, p.ms, 'tick', p.label)
    },
    cancel(_s, key: string, ctx) {
      ctx.timers.cancel(key)
    },
    active(_s, key: string, ctx) {
      return ctx.timers.isActive(key)
    },
    tick(state, label: string) {
      state.ticks.push(label)
    },
    ticks(state) {
      return state.ticks
    },
    block(_s, ms: number, ctx) {
      // Holds the mailbox while the timer fires, then cancels it: the queued tick must not run.
      ctx.timers.startSingle('race', ms, 'tick', 'race')
      return new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => ctx.timers.cancel('race'))
    },
  },
})

test('single timers fire once after the delay; keys replace', async () => {
  const { system, clock } = manualSystem()
  const t = system.spawn(Ticker)
  await t.ask('once', { key: 'a', ms: 100, label: 'first' })
  await t.ask('once', { key: 'a', ms: 300, label: 'replaced' })
  await t.ask('once', { key: 'b', ms: 200, label: 'b' })
  assert.is(await t.ask('active', 'a'), true)
  await advance(clock, 150)
  assert.equal(await t.ask('ticks'), [])
  await advance(clock, 200)
  assert.equal(await t.ask('ticks'), ['b', 'replaced'])
  assert.is(await t.ask('active', 'a'), false)
  await system.terminate()
})

test('periodic timers repeat until cancelled', async () => {
  const { system, clock } = manualSystem()
  const t = system.spawn(Ticker)
  await t.ask('every', { key: 'p', ms: 100, label: 'p' })
  await advance(clock, 350)
  assert.equal(await t.ask('ticks'), ['p', 'p', 'p'])
  await t.ask('cancel', 'p')
  await advance(clock, 500)
  assert.equal((await t.ask('ticks')).length, 3)
  await system.terminate()
})

test('a timer message already queued is dropped once its timer is cancelled', async () => {
  const { system, clock } = manualSystem()
  const t = system.spawn(Ticker)
  const blocked = t.ask('block', 0)
  clock.advance(1)
  await blocked
  await settle()
  assert.equal(await t.ask('ticks'), [])
  await system.terminate()
})

test('timers are cancelled when the actor stops', async () => {
  const { system, clock } = manualSystem()
  const t = system.spawn(Ticker)
  await t.ask('every', { key: 'p', ms: 100, label: 'p' })
  await system.stop(t)
  assert.is(clock.pendingTimers(), 0)
  await advance(clock, 500)
  assert.is(system.deadLetters, 0)
  await rejectsWith(t.ask('ticks'), 'ACTOR_STOPPED')
  await system.terminate()
})

test('invalid timer arguments are typed errors', async () => {
  const { system } = manualSystem()
  const t = system.spawn(Ticker)
  await rejectsWith(t.ask('every', { key: 'x', ms: 0, label: 'x' }), 'HANDLER_FAILED')
  await system.terminate()
})

test.run()
