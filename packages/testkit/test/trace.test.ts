import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Trace, fnv1aBytes } from '../src/sim/trace.js'

// The trace hash defines every recorded simulation fingerprint: it must never change.

test('trace hash: two FNV-1a lanes over event lines, pinned', () => {
  const t = new Trace()
  assert.is(t.hash, '811c9dc5050c5d1f')
  for (const line of ['', 'a', 'node-1', 'ws://127.0.0.1:4001', 'user/42', 'é€😀', 'cart:' + 'x'.repeat(300)]) t.record(line)
  assert.is(t.hash, '893208944d5f59ad')
  const many = new Trace({ keepLines: 0 })
  for (let i = 0; i < 300; i++) many.record('event ' + i)
  assert.is(many.hash, 'f9fc04e362888d5f')
})

test('trace hash: line boundaries count', () => {
  const ab = new Trace()
  ab.record('ab')
  ab.record('c')
  const bc = new Trace()
  bc.record('a')
  bc.record('bc')
  assert.is.not(ab.hash, bc.hash)
})

test('fnv1aBytes: frame fingerprints, pinned', () => {
  assert.is(fnv1aBytes(new Uint8Array()), 0x811c9dc5)
  assert.is(fnv1aBytes(new TextEncoder().encode('user/42')), 670346113)
})

test.run()
