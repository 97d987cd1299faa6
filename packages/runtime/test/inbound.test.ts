import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Counter, twoNodes } from './remote-helpers.js'

test('malformed frames are rejected with a reason; the node keeps serving', async () => {
  const { a, b } = await twoNodes()
  const rejected: string[] = []
  b.events.on('inboundRejected', (r) => rejected.push(r.reason))
  b.spawn(Counter, { name: 'c' })
  const raw = (b as any).remoting.inbound as { receive(from: string, f: Uint8Array): void }
  raw.receive('a', new Uint8Array([0xff, 0x00, 0x12]))
  raw.receive('a', new Uint8Array([0x9a, 0x7f, 0xff, 0xff, 0xff]))
  raw.receive('a', b.codec.encode([99, 'x']))
  raw.receive('a', b.codec.encode('not an envelope'))
  raw.receive('a', b.codec.encode([1, '/user/c', 0, 'add', 1, 'not a ref']))
  const deep = new Uint8Array(100_000).fill(0x81)
  raw.receive('a', deep)
  assert.is(rejected.length, 6, rejected.join('\n'))
  assert.is(await a.remoteRef('b', '/user/c').ask('get'), 0)
  await a.terminate()
  await b.terminate()
})

test.run()
