// MemoryNetwork transports with their own wire version ranges: links speak
// the negotiated version (so the version-3 test build runs in-process too),
// and nodes without a common version exchange nothing.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, MemoryNetwork, defineActor } from '@troupe/runtime'
import { nextWire } from '@troupe/runtime/testing'
import { WIRE_VERSION, WIRE_VERSION_NEXT } from '../src/wire-version.js'

const test = suite('memory network versions')

const N = WIRE_VERSION
const NEXT = WIRE_VERSION_NEXT
const Echo = defineActor({ name: 'echo', initial: () => null, handlers: { echo: (_s, x: string) => x } })

test('links speak the negotiated version; the version-3 additions travel only between version-3 nodes; disjoint ranges exchange nothing', async () => {
  const net = new MemoryNetwork()
  const make = (name: string, versions?: { min: number; max: number }) => new ActorSystem({ name, transport: net.transport(versions ? { versions } : {}), askTimeoutMs: 300 })
  const old = make('old')
  const a = make('a', { min: N, max: NEXT })
  const b = make('b', { min: N, max: NEXT })
  const req = make('req', { min: NEXT, max: NEXT })
  const all = [old, a, b, req]
  for (const s of all) await s.start()
  try {
    for (const s of all) s.spawn(Echo, { name: 'echo' })
    assert.is(nextWire(a).peerVersion('b'), NEXT)
    assert.is(nextWire(a).peerVersion('old'), N)
    assert.is(await a.remoteRef<{ echo(x: string): string }>('old', '/user/echo').ask('echo', 'x'), 'x')
    assert.is(await old.remoteRef<{ echo(x: string): string }>('a', '/user/echo').ask('echo', 'y'), 'y')
    assert.is(await a.remoteRef<{ echo(x: string): string }>('b', '/user/echo').ask('echo', 'z'), 'z')
    assert.ok(nextWire(b).stats().trailingFieldsSeen > 0)
    assert.is(nextWire(old).stats().trailingFieldsSeen, 0)
    const notes: string[] = []
    nextWire(b).onNote((from, text) => void notes.push(`${from}:${text}`))
    assert.ok(nextWire(a).sendNote('b', 'n'))
    assert.not.ok(nextWire(a).sendNote('old', 'n'))
    // FIFO per pair: once an ask sent after the note is answered, the note was handled.
    await a.remoteRef<{ echo(x: string): string }>('b', '/user/echo').ask('echo', 'after')
    assert.equal(notes, ['a:n'])
    // old and req share no version: nothing goes either way (asks time out).
    await old.remoteRef<{ echo(x: string): string }>('req', '/user/echo').ask('echo', 'x').then(
      () => assert.unreachable('an ask across disjoint ranges was answered'),
      (e: { code?: string }) => assert.is(e.code, 'ASK_TIMEOUT'),
    )
    assert.is(await req.remoteRef<{ echo(x: string): string }>('a', '/user/echo').ask('echo', 'w'), 'w')
  } finally {
    for (const s of all) await s.terminate()
  }
})

test.run()
