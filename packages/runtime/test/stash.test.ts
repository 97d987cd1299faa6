import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, defineBehavior } from '@troupe/runtime'
import { rejectsWith, settle } from './helpers.js'

type DoorProtocol = { open(): void; enter(who: string): string; log(): string[] }

const Door = defineBehavior<DoorProtocol, { open: boolean; log: string[] }>({
  initial: () => ({ open: false, log: [] }),
  stashCapacity: 3,
  receive(state, msg, ctx) {
    switch (msg.type) {
      case 'open':
        state.open = true
        ctx.unstashAll()
        return
      case 'enter':
        if (!state.open) return ctx.stash()
        state.log.push(msg.payload)
        return `welcome ${msg.payload}`
      case 'log':
        return state.log
    }
  },
})

test('stash holds messages (and their asks) until unstashAll, in order', async () => {
  const system = new ActorSystem()
  const d = system.spawn(Door)
  const a = d.ask('enter', 'ann')
  const b = d.ask('enter', 'bob')
  await settle()
  d.tell('open')
  assert.is(await a, 'welcome ann')
  assert.is(await b, 'welcome bob')
  d.tell('enter', 'cat')
  assert.equal(await d.ask('log'), ['ann', 'bob', 'cat'])
  await system.terminate()
})

test('the stash is bounded: STASH_FULL fails the handler; stashed asks reject when the actor stops', async () => {
  const system = new ActorSystem()
  const d = system.spawn(Door, { supervision: { onFailure: 'resume' } })
  const asks = ['a', 'b', 'c'].map((w) => d.ask('enter', w))
  await rejectsWith(d.ask('enter', 'd'), 'HANDLER_FAILED')
  await system.stop(d)
  for (const a of asks) await rejectsWith(a, 'ACTOR_STOPPED')
  await system.terminate()
})

test.run()
