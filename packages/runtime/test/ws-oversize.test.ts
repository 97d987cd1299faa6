import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { CloseCode } from '../src/ws/index.js'
import { FrameType, encodeFrame } from '../src/ws/frames.js'
import { RawClient, eventually, startTransport } from './ws-helpers.js'

const test = suite('ws oversized messages')

test('a message over maxPayloadBytes is logged as closed by this node with 1009, not lost with 1006', async () => {
  const a = await startTransport('a', { maxPayloadBytes: 64 * 1024 })
  try {
    const raw = await RawClient.connect(a.url)
    await raw.handshake('mallory', 'a')
    await raw.send(encodeFrame(FrameType.Data, Buffer.alloc(100_000)))
    assert.is((await raw.closed).code, CloseCode.MessageTooBig)
    await eventually(() => a.transport.stats().open === 0, 'mallory gone')
    const entries = a.sink.entries.filter((e) => e.node === 'mallory' && (e.event === 'connection-closed' || e.event === 'connection-lost'))
    assert.is(entries.length, 1, JSON.stringify(entries))
    assert.is(entries[0].event, 'connection-closed')
    assert.is(entries[0].code, CloseCode.MessageTooBig)
    assert.match(entries[0].reason ?? '', /too big|exceed/i)
  } finally {
    await a.transport.stop()
  }
})

test('before the handshake, a message over 4 KiB is logged with 1009 too', async () => {
  const a = await startTransport('a')
  try {
    const raw = await RawClient.connect(a.url)
    await raw.send(encodeFrame(FrameType.Hello, Buffer.alloc(10_000)))
    assert.is((await raw.closed).code, CloseCode.MessageTooBig)
    await eventually(() => a.transport.stats().handshaking === 0, 'stranger gone')
    const entries = a.sink.entries.filter((e) => e.event === 'connection-closed' || e.event === 'connection-lost')
    assert.is(entries.length, 1, JSON.stringify(entries))
    assert.equal([entries[0].event, entries[0].code], ['connection-closed', CloseCode.MessageTooBig])
  } finally {
    await a.transport.stop()
  }
})

test.run()
