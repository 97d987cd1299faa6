import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, defineActor } from '@troupe/runtime'
import type { ActorRef, Signal } from '@troupe/runtime'
import { rejectsWith, settle } from './helpers.js'

const Target = defineActor({
  initial: () => null,
  supervision: { onFailure: 'stop' },
  handlers: {
    ping: () => 'pong',
    die() {
      throw new Error('died')
    },
  },
})

function watcherDef(signals: Signal[]) {
  return defineActor({
    initial: () => null,
    onSignal(_s, signal) {
      signals.push(signal)
    },
    handlers: {
      watch(_s, ref: ActorRef<any>, ctx) {
        ctx.watch(ref)
      },
      unwatch(_s, ref: ActorRef<any>, ctx) {
        ctx.unwatch(ref)
      },
    },
  })
}

test('watch delivers Terminated with the reason: stopped', async () => {
  const system = new ActorSystem()
  const signals: Signal[] = []
  const w = system.spawn(watcherDef(signals))
  const t = system.spawn(Target)
  await w.ask('watch', t)
  await system.stop(t)
  await settle()
  assert.is(signals.length, 1)
  assert.is(signals[0].type, 'terminated')
  assert.ok(signals[0].ref.equals(t))
  assert.equal(signals[0].type === 'terminated' && signals[0].reason, { kind: 'stopped' })
  await system.terminate()
})

test('watch delivers Terminated with the reason: failed', async () => {
  const system = new ActorSystem()
  const signals: Signal[] = []
  const w = system.spawn(watcherDef(signals))
  const t = system.spawn(Target)
  await w.ask('watch', t)
  await rejectsWith(t.ask('die'), 'HANDLER_FAILED')
  await settle()
  assert.is(signals.length, 1)
  const s = signals[0]
  assert.ok(s.type === 'terminated' && s.reason.kind === 'failed' && (s.reason.error as Error).message === 'died')
  await system.terminate()
})

test('watching an already dead actor delivers Terminated at once', async () => {
  const system = new ActorSystem()
  const signals: Signal[] = []
  const w = system.spawn(watcherDef(signals))
  const t = system.spawn(Target)
  await system.stop(t)
  await w.ask('watch', t)
  await settle()
  assert.is(signals.length, 1)
  assert.equal(signals[0].type === 'terminated' && signals[0].reason, { kind: 'stopped' })
  await system.terminate()
})

test('unwatch: no signal after unwatching; a stopped watcher is dropped from the target', async () => {
  const system = new ActorSystem()
  const signals: Signal[] = []
  const w = system.spawn(watcherDef(signals))
  const t = system.spawn(Target)
  await w.ask('watch', t)
  await w.ask('unwatch', t)
  await system.stop(t)
  await settle()
  assert.is(signals.length, 0)
  const t2 = system.spawn(Target)
  const w2 = system.spawn(watcherDef(signals))
  await w2.ask('watch', t2)
  await system.stop(w2)
  await system.stop(t2)
  await settle()
  assert.is(signals.length, 0)
  assert.is(system.deadLetters, 0, 'no signal was sent to the stopped watcher')
  await system.terminate()
})

test('whenTerminated resolves with the reason, also for an actor already gone', async () => {
  const system = new ActorSystem()
  const t = system.spawn(Target)
  const done = system.whenTerminated(t)
  await rejectsWith(t.ask('die'), 'HANDLER_FAILED')
  const reason = await done
  assert.is(reason.kind, 'failed')
  assert.is((await system.whenTerminated(t)).kind, 'failed')
  await system.terminate()
})

test.run()
