import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, defineActor } from '@troupe/runtime'
import type { ActorDef } from '@troupe/runtime'
import { rejectsWith, settle } from './helpers.js'

function tracked(log: string[], name: string, kids: string[] = []): ActorDef<any, any> {
  return defineActor({
    initial: () => null,
    onStart(_s, ctx) {
      log.push(`start ${name}`)
      for (const k of kids) ctx.spawn(tracked(log, k), { name: k })
    },
    async onStop() {
      await Promise.resolve()
      log.push(`stop ${name}`)
    },
    handlers: {
      path(_s, _: void, ctx) {
        return ctx.self.path
      },
      kids(_s, _: void, ctx) {
        return ctx.children().map((c) => c.path)
      },
    },
  })
}

test('named children get paths; onStart runs before the first message', async () => {
  const system = new ActorSystem()
  const log: string[] = []
  const root = system.spawn(tracked(log, 'root', ['a', 'b']), { name: 'root' })
  assert.equal(await root.ask('kids'), ['/user/root/a', '/user/root/b'])
  assert.is(await system.lookup('/user/root/a')!.ask('path'), '/user/root/a')
  assert.is(system.lookup('/user/root/zzz'), undefined)
  assert.equal(log.slice(0, 1), ['start root'])
  await system.terminate()
})

test('stopping a parent stops its children first, then runs its own onStop', async () => {
  const system = new ActorSystem()
  const log: string[] = []
  const Parent = defineActor({
    initial: () => null,
    onStart(_s, ctx) {
      const mid = ctx.spawn(tracked(log, 'mid', ['leaf']), { name: 'mid' })
      void mid
    },
    onStop() {
      log.push('stop parent')
    },
    handlers: { ping: () => 'pong' },
  })
  const p = system.spawn(Parent, { name: 'p' })
  assert.is(await p.ask('ping'), 'pong')
  await settle()
  const reason = await system.stop(p)
  assert.equal(reason, { kind: 'stopped' })
  assert.equal(log.filter((l) => l.startsWith('stop')), ['stop leaf', 'stop mid', 'stop parent'])
  assert.is(system.lookup('/user/p'), undefined)
  // The name is free again once the actor has terminated.
  system.spawn(Parent, { name: 'p' })
  await system.terminate()
})

test('ctx.stop() stops self after the current message; queued messages become dead letters and asks reject', async () => {
  const system = new ActorSystem()
  const Quitter = defineActor({
    initial: () => ({ n: 0 }),
    handlers: {
      quit(_s, _: void, ctx) {
        ctx.stop()
        return 'bye'
      },
      n(state) {
        return ++state.n
      },
    },
  })
  const q = system.spawn(Quitter)
  const bye = q.ask('quit')
  q.tell('n')
  const queuedAsk = q.ask('n')
  assert.is(await bye, 'bye')
  await rejectsWith(queuedAsk, 'ACTOR_STOPPED')
  assert.is(system.deadLetters, 2)
  await rejectsWith(q.ask('n'), 'ACTOR_STOPPED')
  q.tell('n')
  assert.is(system.deadLetters, 4)
  await system.terminate()
})

test('a child can only be stopped by its parent (or system.stop)', async () => {
  const system = new ActorSystem()
  const Stranger = defineActor({
    initial: () => null,
    handlers: {
      stopOther(_s, other: any, ctx) {
        ctx.stop(other)
      },
    },
  })
  const a = system.spawn(Stranger)
  const b = system.spawn(Stranger)
  await rejectsWith(a.ask('stopOther', b), 'HANDLER_FAILED')
  await system.terminate()
})

test('system.terminate stops everything and resolves', async () => {
  const system = new ActorSystem()
  const log: string[] = []
  system.spawn(tracked(log, 'x', ['y']), { name: 'x' })
  await settle()
  await system.terminate()
  assert.equal(log.sort(), ['start x', 'start y', 'stop x', 'stop y'])
})

test('system actors live under /system and stop after every user actor', async () => {
  const system = new ActorSystem()
  const log: string[] = []
  const daemon = system.spawnSystemActor(tracked(log, 'daemon'), { name: 'daemon' })
  system.spawn(tracked(log, 'user'), { name: 'u' })
  assert.is(daemon.path, '/system/daemon')
  assert.is(system.lookup('/system/daemon')?.path, '/system/daemon')
  await settle()
  await system.terminate()
  assert.equal(log.filter((l) => l.startsWith('stop')), ['stop user', 'stop daemon'])
})

test.run()
