import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, defineActor, defineBehavior } from '@troupe/runtime'
import type { ActorRef, Message } from '@troupe/runtime'
import { rejectsWith, settle } from './helpers.js'

const Counter = defineActor({
  name: 'counter',
  initial: () => ({ count: 0 }),
  handlers: {
    add(state, by: number) {
      state.count += by
    },
    get(state) {
      return state.count
    },
    async slowDouble(state, _: void) {
      await new Promise((r) => setTimeout(r, 5))
      state.count *= 2
      return state.count
    },
  },
})

test('typed actor: tell then ask answers with the handler return value', async () => {
  const system = new ActorSystem()
  const c = system.spawn(Counter, { name: 'c1' })
  c.tell('add', 2)
  c.tell('add', 3)
  const n: number = await c.ask('get', undefined, { timeoutMs: 500 })
  assert.is(n, 5)
  assert.is(await c.ask('get'), 5)
  assert.is(await c.ask('slowDouble'), 10)
  assert.is(c.path, '/user/c1')
  await system.terminate()
})

test('wrong message names and payload types are compile errors', async () => {
  const system = new ActorSystem()
  const c = system.spawn(Counter)
  // @ts-expect-error unknown message name
  const bad = () => c.tell('nope', 1)
  // @ts-expect-error wrong payload type
  const bad2 = () => c.tell('add', 'two')
  // @ts-expect-error ask result is a number, not a string
  const bad3 = async (): Promise<string> => c.ask('get')
  void bad, bad2, bad3
  await system.terminate()
})

test('unknown message at runtime: ask rejects with UNKNOWN_MESSAGE, the actor keeps its state', async () => {
  const system = new ActorSystem()
  const c = system.spawn(Counter)
  c.tell('add', 7)
  const untyped = c as unknown as ActorRef
  await rejectsWith(untyped.ask('nope', 1), 'UNKNOWN_MESSAGE')
  assert.is(await c.ask('get'), 7)
  assert.is(system.deadLetters, 1)
  await system.terminate()
})

type EchoProtocol = { echo(text: string): string; whoami(): string; ping(n: number): void }

test('low-level behavior sees { type, payload } and a context with self and sender', async () => {
  const system = new ActorSystem()
  const seen: string[] = []
  const Echo = defineBehavior<EchoProtocol, { hits: number }>({
    initial: () => ({ hits: 0 }),
    receive(state, msg: Message<EchoProtocol>, ctx) {
      state.hits++
      switch (msg.type) {
        case 'echo':
          return msg.payload.toUpperCase()
        case 'whoami':
          return ctx.self.path
        case 'ping':
          seen.push(`${msg.payload} from ${ctx.sender?.path ?? 'nobody'}`)
          return
      }
    },
  })
  const echo = system.spawn(Echo, { name: 'echo' })
  const Pinger = defineActor({
    initial: () => null,
    handlers: {
      go(_s, target: ActorRef<EchoProtocol>, ctx) {
        ctx.tell(target, 'ping', 1)
      },
    },
  })
  const pinger = system.spawn(Pinger, { name: 'pinger' })
  assert.is(await echo.ask('echo', 'hi'), 'HI')
  assert.is(await echo.ask('whoami'), '/user/echo')
  pinger.tell('go', echo)
  echo.tell('ping', 2)
  await settle()
  assert.equal(seen.sort(), ['1 from /user/pinger', '2 from nobody'])
  await system.terminate()
})

test('spawn validates names and rejects duplicates with NAME_TAKEN', async () => {
  const system = new ActorSystem()
  system.spawn(Counter, { name: 'x' })
  assert.throws(() => system.spawn(Counter, { name: 'x' }), (e: any) => e.code === 'NAME_TAKEN')
  assert.throws(() => system.spawn(Counter, { name: 'a/b' }), (e: any) => e.code === 'INVALID_ARGUMENT')
  assert.throws(() => system.spawn(Counter, { name: '' }), (e: any) => e.code === 'INVALID_ARGUMENT')
  assert.throws(() => system.spawn(Counter, { mailbox: { capacity: 0 } }), (e: any) => e.code === 'INVALID_ARGUMENT')
  assert.throws(() => system.spawn(Counter, { supervision: { onFailure: 'explode' } as any }), (e: any) => e.code === 'INVALID_ARGUMENT')
  await rejectsWith(system.spawn(Counter).ask('get', undefined, { timeoutMs: -1 }), 'INVALID_ARGUMENT')
  await system.terminate()
  assert.throws(() => system.spawn(Counter), (e: any) => e.code === 'SYSTEM_STOPPED')
})

test.run()
