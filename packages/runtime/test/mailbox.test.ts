import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, defineActor } from '@troupe/runtime'
import type { ActorRef, DeadLetter } from '@troupe/runtime'
import { rejectsWith, settle } from './helpers.js'

test('one message at a time: an async handler finishes before the next starts', async () => {
  const system = new ActorSystem()
  const log: string[] = []
  const Slow = defineActor({
    initial: () => ({ active: 0, maxActive: 0 }),
    handlers: {
      async work(state, id: number) {
        state.active++
        state.maxActive = Math.max(state.maxActive, state.active)
        log.push(`start ${id}`)
        await new Promise((r) => setTimeout(r, 2))
        await Promise.resolve()
        log.push(`end ${id}`)
        state.active--
      },
      max(state) {
        return state.maxActive
      },
    },
  })
  const a = system.spawn(Slow)
  for (let i = 0; i < 5; i++) a.tell('work', i)
  assert.is(await a.ask('max'), 1)
  assert.equal(log, [0, 1, 2, 3, 4].flatMap((i) => [`start ${i}`, `end ${i}`]))
  await system.terminate()
})

test('FIFO per sender: messages from one sender arrive in order, interleaved senders keep their own order', async () => {
  const system = new ActorSystem()
  const Sink = defineActor({
    initial: () => [] as string[],
    handlers: {
      put(state, m: string) {
        state.push(m)
      },
      all(state) {
        return state
      },
    },
  })
  const sink = system.spawn(Sink)
  const Sender = defineActor({
    initial: () => null,
    handlers: {
      burst(_s, p: { tag: string; n: number }, ctx) {
        for (let i = 0; i < p.n; i++) ctx.tell(sink, 'put', `${p.tag}${i}`)
      },
    },
  })
  const s1 = system.spawn(Sender)
  const s2 = system.spawn(Sender)
  s1.tell('burst', { tag: 'a', n: 500 })
  s2.tell('burst', { tag: 'b', n: 500 })
  for (let i = 0; i < 500; i++) sink.tell('put', `c${i}`)
  await settle()
  const all = await sink.ask('all')
  for (const tag of ['a', 'b', 'c']) {
    const mine = all.filter((m) => m[0] === tag).map((m) => Number(m.slice(1)))
    assert.equal(mine, [...Array(500).keys()], `order of ${tag}`)
  }
  await system.terminate()
})

const Blocker = defineActor({
  initial: () => ({ seen: 0 }),
  handlers: {
    async hold(_state, until: Promise<void>) {
      await until
    },
    n(state) {
      state.seen++
      return state.seen
    },
  },
})

test("bounded mailbox, 'reject': tell throws MAILBOX_FULL and ask rejects; nothing is lost silently", async () => {
  const system = new ActorSystem()
  const dead: DeadLetter[] = []
  system.events.on('deadLetter', (d) => dead.push(d))
  const a = system.spawn(Blocker, { mailbox: { capacity: 3, overflow: 'reject' } })
  let release!: () => void
  a.tell('hold', new Promise<void>((r) => (release = r)))
  await settle()
  a.tell('n')
  a.tell('n')
  a.tell('n')
  assert.throws(() => a.tell('n'), (e: any) => e.code === 'MAILBOX_FULL')
  await rejectsWith(a.ask('n'), 'MAILBOX_FULL')
  assert.is(dead.length, 2)
  assert.ok(dead.every((d) => d.reason === 'mailbox-full'))
  release()
  await settle()
  assert.is(await a.ask('n'), 4)
  await system.terminate()
})

test("bounded mailbox, 'drop': overflow goes to dead letters and tell does not throw", async () => {
  const system = new ActorSystem()
  const a = system.spawn(Blocker, { mailbox: { capacity: 2, overflow: 'drop' } })
  let release!: () => void
  a.tell('hold', new Promise<void>((r) => (release = r)))
  await settle()
  for (let i = 0; i < 10; i++) a.tell('n')
  assert.is(system.deadLetters, 8)
  release()
  await settle()
  assert.is(await a.ask('n'), 3)
  await system.terminate()
})

test('mailboxes drain in batches and yield to I/O: an endless ping-pong does not starve setImmediate', async () => {
  const system = new ActorSystem({ turnBudget: 1000 })
  let hops = 0
  const Player = defineActor({
    initial: () => ({ running: true }),
    handlers: {
      ball(state, other: ActorRef<any>, ctx) {
        hops++
        if (state.running) ctx.tell(other, 'ball', ctx.self)
      },
      halt(state) {
        state.running = false
      },
    },
  })
  const a = system.spawn(Player)
  const b = system.spawn(Player)
  a.tell('ball', b)
  const t0 = hops
  await new Promise((r) => setImmediate(r))
  const t1 = hops
  await new Promise((r) => setImmediate(r))
  assert.ok(t1 > t0, 'the actors made progress')
  assert.ok(hops > t1, 'the actors keep running between I/O turns')
  a.tell('halt')
  b.tell('halt')
  await settle()
  await system.terminate()
})

test.run()
