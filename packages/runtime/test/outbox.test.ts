import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, MemoryNetwork } from '@troupe/runtime'
import { rejectsWith, settle } from './helpers.js'
import { Counter } from './remote-helpers.js'

test('oversized and unencodable messages are typed errors at the sender', async () => {
  const net = new MemoryNetwork()
  const a = new ActorSystem({ name: 'a', transport: net.transport(), remoting: { maxMessageBytes: 1000 } })
  const b = new ActorSystem({ name: 'b', transport: net.transport() })
  await a.start()
  await b.start()
  b.spawn(Counter, { name: 'c' })
  const remote = a.remoteRef('b', '/user/c')
  assert.throws(() => remote.tell('add', 'x'.repeat(2000) as any), (e: any) => e.code === 'MESSAGE_TOO_LARGE')
  await rejectsWith(remote.ask('add', 'y'.repeat(2000) as any), 'MESSAGE_TOO_LARGE')
  await a.terminate()
  await b.terminate()
})

test('frames leave in the order their nodes got a first envelope since the last flush', async () => {
  const net = new MemoryNetwork()
  const inner = net.transport()
  const sentTo: string[] = []
  const transport = {
    start: inner.start.bind(inner),
    stop: inner.stop.bind(inner),
    send(node: string, frame: Uint8Array) {
      sentTo.push(node)
      inner.send(node, frame)
    },
  }
  const a = new ActorSystem({ name: 'a', transport })
  const [b, c] = [new ActorSystem({ name: 'b', transport: net.transport() }), new ActorSystem({ name: 'c', transport: net.transport() })]
  for (const s of [a, b, c]) await s.start()
  b.spawn(Counter, { name: 'k' })
  c.spawn(Counter, { name: 'k' })
  const [toB, toC] = [a.remoteRef('b', '/user/k'), a.remoteRef('c', '/user/k')]
  toB.tell('add', 1)
  toC.tell('add', 1)
  await settle()
  // The next turn writes to c first: c's frame goes first, though b was seen first ever.
  toC.tell('add', 1)
  toB.tell('add', 1)
  await settle()
  assert.equal(sentTo, ['b', 'c', 'c', 'b'])
  for (const s of [a, b, c]) await s.terminate()
})

test.run()
