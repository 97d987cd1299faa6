// The root README's twenty-line example, kept compiling and true.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, defineActor } from '@troupe/runtime'

test('README example', async () => {
  const Counter = defineActor({
    initial: () => ({ count: 0 }),
    handlers: {
      add(state, by: number) {
        state.count += by
      },
      get(state) {
        return state.count
      },
    },
    supervision: { onFailure: 'restart', maxRestarts: 5, withinMs: 10_000, backoff: { minMs: 100, maxMs: 5_000 } },
  })
  const system = new ActorSystem()
  const c = system.spawn(Counter, { name: 'c1' })
  c.tell('add', 2)
  const n: number = await c.ask('get', undefined, { timeoutMs: 500 })
  assert.is(n, 2)
  // @ts-expect-error payload must be a number
  if (n < 0) c.tell('add', 'two')
  // @ts-expect-error no such message
  if (n < 0) c.tell('reset')
  await system.terminate()
})

test.run()
