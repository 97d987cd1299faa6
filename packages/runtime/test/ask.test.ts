import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { defineActor } from '@troupe/runtime'
import type { DeadLetter } from '@troupe/runtime'
import { advance, manualSystem, rejectsWith, settle } from './helpers.js'

const Lazy = defineActor({
  initial: () => ({ pending: [] as Array<{ resolve(v: unknown): void }> }),
  handlers: {
    never(state, _: void, ctx) {
      state.pending.push(ctx.deferReply())
    },
    answerAll(state) {
      for (const p of state.pending) p.resolve('late')
      state.pending = []
    },
    later(_s, ms: number, ctx) {
      const reply = ctx.deferReply<string>()
      ctx.timers.startSingle('t', ms, 'fire', reply)
    },
    fire(_s, reply: { resolve(v: string): void }) {
      reply.resolve('fired')
    },
    quick: () => 'quick',
  },
})

test('ask times out on the system clock with ASK_TIMEOUT; a late reply is a dead letter', async () => {
  const { system, clock } = manualSystem({ askTimeoutMs: 1000 })
  const dead: DeadLetter[] = []
  system.events.on('deadLetter', (d) => dead.push(d))
  const a = system.spawn(Lazy)
  const p1 = a.ask('never', undefined, { timeoutMs: 200 })
  const p2 = a.ask('never')
  p2.catch(() => {})
  let p1Done = false
  p1.catch(() => (p1Done = true))
  await advance(clock, 190)
  assert.is(p1Done, false)
  await advance(clock, 20)
  const e1 = await rejectsWith(p1, 'ASK_TIMEOUT')
  assert.match(e1.message, /never/)
  await advance(clock, 800)
  await rejectsWith(p2, 'ASK_TIMEOUT')
  a.tell('answerAll')
  await settle()
  assert.is(dead.filter((d) => d.reason === 'late-reply').length, 2)
  await system.terminate()
})

test('deferred replies answer later (here from a timer)', async () => {
  const { system, clock } = manualSystem()
  const a = system.spawn(Lazy)
  const p = a.ask('later', 500)
  await advance(clock, 600, 50)
  assert.is(await p, 'fired')
  assert.is(await a.ask('quick'), 'quick')
  await system.terminate()
})

test('ask to a stopped actor rejects with ACTOR_STOPPED; lookup of a missing path is undefined', async () => {
  const { system } = manualSystem()
  const a = system.spawn(Lazy, { name: 'gone' })
  await system.stop(a)
  await rejectsWith(a.ask('quick'), 'ACTOR_STOPPED')
  assert.is(system.lookup('/user/gone'), undefined)
  await system.terminate()
})

test('many concurrent asks each get their own answer', async () => {
  const { system } = manualSystem()
  const Sq = defineActor({ initial: () => null, handlers: { sq: (_s, n: number) => n * n } })
  const a = system.spawn(Sq)
  const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => a.ask('sq', i)))
  assert.equal(results, Array.from({ length: 1000 }, (_, i) => i * i))
  await system.terminate()
})

test.run()
