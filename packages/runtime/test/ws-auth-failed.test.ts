// A wrong cluster secret is a typed event on both sides of the refused
// handshake (transport.on('authFailed')), naming the peer, after the first
// refused round; a node with the right secret raises none.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { defineActor, isRetryable, isTroupeError } from '@troupe/runtime'
import type { AuthFailure } from '../src/transport.js'
import { CloseCode } from '../src/ws/index.js'
import { RawClient, eventually, link, startNode } from './ws-helpers.js'
import type { TestNode } from './ws-helpers.js'

const test = suite('ws auth failed event')

const Zero = defineActor({ initial: () => 0, handlers: { get: (s) => s } })

function failures(node: TestNode): AuthFailure[] {
  const out: AuthFailure[] = []
  node.transport.on('authFailed', (f) => void out.push(f))
  return out
}

test('two secrets: both sides report authFailed naming the other, per direction; the right secret reports nothing', async () => {
  const a = await startNode('a')
  const b = await startNode('b', { secret: 'another-cluster-secret-entirely' })
  const c = await startNode('c')
  const [fa, fb, fc] = [failures(a), failures(b), failures(c)]
  link(a, b, c)
  try {
    // a dials b: b's Challenge proof fails at a, which refuses it; b learns it was refused.
    a.system.remoteRef('b', '/user/x').tell('anything' as never)
    await eventually(() => fa.length > 0 && fb.length > 0, 'both sides report the first refused round')
    const out = fa[0]
    assert.is(out.peer, 'b')
    assert.is(out.direction, 'outbound')
    assert.is(out.refusedBy, 'self')
    assert.is(out.address, b.url)
    assert.ok(isTroupeError(out.error, 'AUTH_FAILED'))
    assert.not.ok(isRetryable(out.error))
    assert.match(out.error.message, /node 'b'/)
    const inb = fb[0]
    assert.is(inb.peer, 'a')
    assert.is(inb.direction, 'inbound')
    assert.is(inb.refusedBy, 'peer')
    assert.match(inb.error.message, /node 'a'/)

    // b dials a: b refuses a's server proof, and a hears of it as the server.
    const before = { a: fa.length, b: fb.length }
    b.system.remoteRef('a', '/user/x').tell('anything' as never)
    await eventually(() => fa.some((f, i) => i >= before.a && f.direction === 'inbound') && fb.some((f, i) => i >= before.b && f.direction === 'outbound'), 'the other direction is reported too')
    const aIn = fa.slice(before.a).find((f) => f.direction === 'inbound')!
    assert.is(aIn.peer, 'b')
    assert.is(aIn.refusedBy, 'peer')
    const bOut = fb.slice(before.b).find((f) => f.direction === 'outbound')!
    assert.is(bOut.peer, 'a')
    assert.is(bOut.refusedBy, 'self')

    // The same secret works and reports nothing.
    c.system.spawn(Zero, { name: 'n' })
    assert.is(await a.system.remoteRef<{ get(): number }>('c', '/user/n').ask('get'), 0)
    assert.equal(fc, [])
    assert.not.ok(fa.some((f) => f.peer === 'c'))
  } finally {
    await Promise.all([a.stop(), b.stop(), c.stop()])
  }
})

test('a forged client proof is refused by this node: reported as inbound, refused by self, naming the claimed name', async () => {
  const a = await startNode('a')
  const fa = failures(a)
  try {
    const raw = await RawClient.connect(a.url)
    await raw.handshake('mallory', 'a', 'a-guessed-secret-of-some-length').catch(() => {})
    assert.is((await raw.closed).code, CloseCode.AuthFailed)
    await eventually(() => fa.length > 0, 'a reports the refused proof')
    assert.is(fa[0].peer, 'mallory')
    assert.is(fa[0].direction, 'inbound')
    assert.is(fa[0].refusedBy, 'self')
    assert.is(fa[0].error.code, 'AUTH_FAILED')
  } finally {
    await a.stop()
  }
})

test('a listener that throws costs a log line, not the transport', async () => {
  const a = await startNode('a')
  const b = await startNode('b', { secret: 'another-cluster-secret-entirely' })
  a.transport.on('authFailed', () => {
    throw new Error('listener boom')
  })
  link(a, b)
  try {
    a.system.remoteRef('b', '/user/x').tell('anything' as never)
    await eventually(() => a.sink.count((e) => e.event === 'listener-threw') > 0, 'the throw is logged')
    assert.is(a.transport.stats().open, 0)
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
})

test.run()
