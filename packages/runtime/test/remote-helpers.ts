import { ActorSystem, MemoryNetwork, defineActor } from '@troupe/runtime'
import type { ActorRef } from '@troupe/runtime'

export const Counter = defineActor({
  name: 'counter',
  initial: () => ({ n: 0, log: [] as number[] }),
  supervision: { onFailure: 'stop' },
  handlers: {
    add(s, by: number) {
      s.n += by
      s.log.push(by)
    },
    get: (s) => s.n,
    log: (s) => s.log,
    fail() {
      throw new Error('remote boom')
    },
    whoSent(_s, _: void, ctx) {
      return ctx.sender
    },
    forward(_s, p: { to: ActorRef<{ add(n: number): void }>; n: number }) {
      p.to.tell('add', p.n)
    },
  },
})

export async function twoNodes() {
  const net = new MemoryNetwork()
  const a = new ActorSystem({ name: 'a', transport: net.transport(), askTimeoutMs: 500 })
  const b = new ActorSystem({ name: 'b', transport: net.transport(), askTimeoutMs: 500 })
  await a.start()
  await b.start()
  return { net, a, b }
}
