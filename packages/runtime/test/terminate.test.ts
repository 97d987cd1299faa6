import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, ManualClock, defineActor, defineBehavior } from '@troupe/runtime'
import type { TerminateResult } from '@troupe/runtime'
import { settle } from './helpers.js'

const never = new Promise<never>(() => {})

function stuckKind(log: string[], name: string, options: { stuckOnStop?: boolean; kids?: string[] } = {}) {
  return defineActor({
    name,
    initial: () => null,
    onStart(_s, ctx) {
      for (const k of options.kids ?? []) ctx.spawn(stuckKind(log, k), { name: k })
    },
    async onStop() {
      log.push(`onStop ${name}`)
      if (options.stuckOnStop) await never
    },
    handlers: {
      async hang() {
        log.push(`hang ${name}`)
        await never
        log.push(`never ${name}`)
        return 'late'
      },
      ping: () => 'pong',
    },
  })
}

/** The value of a settled ask, or the code it was rejected with. */
function outcome(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (v) => v,
    (e: any) => e.code,
  )
}

/** Settles `p` within `rounds` event-loop rounds, or reports that it did not. */
async function settledWithin<T>(p: Promise<T>, rounds = 50): Promise<{ value?: T; pending: boolean }> {
  let out: { value?: T; pending: boolean } = { pending: true }
  p.then((value) => (out = { value, pending: false }))
  await settle(rounds)
  return out
}

test('terminate({ timeoutMs }) resolves even when a handler never finishes: the actor is stopped by force after the timeout', async () => {
  const clock = new ManualClock(1000)
  const system = new ActorSystem({ clock })
  const log: string[] = []
  const stuck = system.spawn(stuckKind(log, 'stuck', { kids: ['kid'] }), { name: 'stuck' })
  const fine = system.spawn(stuckKind(log, 'fine'), { name: 'fine' })
  assert.is(await fine.ask('ping'), 'pong')
  const pending = outcome(stuck.ask('hang', undefined, { timeoutMs: 1_000_000 }))
  const queued = outcome(stuck.ask('ping', undefined, { timeoutMs: 1_000_000 }))
  await settle()
  assert.ok(log.includes('hang stuck'))
  const done = system.terminate({ timeoutMs: 500 })
  const before = await settledWithin(done)
  assert.ok(before.pending, 'terminate waits for the running handler until the timeout')
  assert.ok(log.includes('onStop fine'), 'actors that could stop did')
  clock.advance(500)
  const after = await settledWithin(done)
  assert.is(after.pending, false, 'terminate resolved after the timeout')
  assert.equal((after.value as TerminateResult).forced.sort(), ['/user/stuck', '/user/stuck/kid'])
  assert.ok(log.includes('onStop stuck') && log.includes('onStop kid'), 'onStop still ran for the forced actor and its child')
  assert.ok(!log.includes('never stuck'))
  assert.equal(await pending, 'ACTOR_STOPPED', 'the abandoned handler answers nothing; its asker gets ACTOR_STOPPED')
  assert.equal(await queued, 'ACTOR_STOPPED', 'a queued message is not handled')
  assert.ok(system.lookup('/user/stuck') === undefined)
})

test('terminate also forces an async onStop that never finishes, and infrastructure actors', async () => {
  const clock = new ManualClock(1000)
  const system = new ActorSystem({ clock })
  const log: string[] = []
  system.spawn(stuckKind(log, 'slow-stop', { stuckOnStop: true }), { name: 'slow-stop' })
  const daemon = system.spawnSystemActor(stuckKind(log, 'daemon'), { name: 'daemon' })
  daemon.tell('hang')
  await settle()
  const done = system.terminate({ timeoutMs: 200 })
  assert.ok((await settledWithin(done)).pending)
  clock.advance(200)
  const after = await settledWithin(done)
  assert.is(after.pending, false)
  assert.equal((after.value as TerminateResult).forced.sort(), ['/system/daemon', '/user/slow-stop'])
  assert.ok(log.includes('onStop daemon'))
})

test('terminate within the timeout forces nothing; a second call returns the same result; a bad timeout is refused', async () => {
  const clock = new ManualClock(1000)
  const system = new ActorSystem({ clock })
  const log: string[] = []
  system.spawn(stuckKind(log, 'a'), { name: 'a' })
  assert.throws(() => system.terminate({ timeoutMs: -1 }), (e: any) => e.code === 'INVALID_ARGUMENT')
  const first = system.terminate({ timeoutMs: 100 })
  const result = await first
  assert.equal(result, { forced: [] })
  assert.is(system.terminate(), first)
  // The timeout was cleared: advancing past it forces nothing.
  clock.advance(1000)
  assert.equal(result.forced, [])
})

test('a handler that finishes after the forced stop changes nothing (its result is ignored)', async () => {
  const clock = new ManualClock(1000)
  const system = new ActorSystem({ clock })
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  const stops: string[] = []
  const Late = defineBehavior<{ go: { payload: void; reply: string } }, { n: number }>({
    name: 'late',
    initial: () => ({ n: 0 }),
    async receive(s) {
      await gate
      s.n++
      return 'done'
    },
    onStop: (s) => void stops.push(`stop n=${s.n}`),
  })
  const ref = system.spawn(Late, { name: 'late' })
  const answer = outcome(ref.ask('go', undefined, { timeoutMs: 1_000_000 }))
  await settle()
  const done = system.terminate({ timeoutMs: 10 })
  clock.advance(10)
  assert.equal((await done).forced, ['/user/late'])
  release()
  await settle()
  assert.is(await answer, 'ACTOR_STOPPED')
  assert.equal(stops, ['stop n=0'])
})

test.run()
