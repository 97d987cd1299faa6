import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Allocation } from '../src/sharding/index.js'
import { FNV1A_OFFSET, cyrb53, fmix32, fnv1a32, fnv1a32Bytes, fnv1a32Fmix, fnv1aUnit, fnv1aUpdate } from '@troupe/runtime/hash'

// These outputs place entities and shards, order the monitoring ring and
// digest gossip on every node of a running cluster: they must never change.
// The values were taken from the hashes as first written (sharding's
// hashString, the cluster's hash32 and hash53, the testkit's fnv1aBytes).

const UNICODE = 'é€😀'
const LONG = 'cart:' + 'x'.repeat(300)

test('fnv1a32: plain 32-bit FNV-1a over UTF-16 code units (monitoring ring)', () => {
  assert.is(fnv1a32(''), 2166136261)
  assert.is(fnv1a32('a'), 3826002220)
  assert.is(fnv1a32('node-1'), 1422144387)
  assert.is(fnv1a32('ws://127.0.0.1:4001'), 1374968771)
  assert.is(fnv1a32('user/42'), 670346113)
  assert.is(fnv1a32(UNICODE), 207495949)
  assert.is(fnv1a32(LONG), 2768122591)
})

test('fnv1a32Fmix: FNV-1a finalized with fmix32 (entity → shard, shard → node)', () => {
  assert.is(fnv1a32Fmix(''), 2872998923)
  assert.is(fnv1a32Fmix('a'), 444641715)
  assert.is(fnv1a32Fmix('node-1'), 2865264164)
  assert.is(fnv1a32Fmix('user/42'), 1488849693)
  assert.is(fnv1a32Fmix(UNICODE), 1546679087)
  assert.is(fnv1a32Fmix(LONG), 902147148)
  assert.is(fnv1a32Fmix('user/42') % 1024, 797)
})

test('fmix32: murmur3 finalizer, signed or unsigned input alike', () => {
  assert.equal([0, 1, 0xffffffff, -1, 123456789].map(fmix32), [0, 1364076727, 2180083513, 2180083513, 3126909082])
})

test('cyrb53: 53-bit gossip digest', () => {
  assert.is(cyrb53(''), 3338908027751811)
  assert.is(cyrb53('a'), 7929297801672961)
  assert.is(cyrb53('node-1'), 873276661127302)
  assert.is(cyrb53(UNICODE), 7085986628057341)
  assert.is(cyrb53(LONG), 7010570530502206)
  assert.ok(Number.isSafeInteger(cyrb53(LONG)))
})

test('fnv1a32Bytes: FNV-1a over bytes; equals fnv1a32 on ASCII', () => {
  const utf8 = (s: string) => new TextEncoder().encode(s)
  assert.is(fnv1a32Bytes(utf8('')), 2166136261)
  assert.is(fnv1a32Bytes(utf8('user/42')), 670346113)
  assert.is(fnv1a32Bytes(utf8(UNICODE)), 77785094)
})

test('fnv1aUpdate and fnv1aUnit continue a state', () => {
  assert.is(fnv1aUpdate(FNV1A_OFFSET, 'node-1'), fnv1a32('node-1'))
  assert.is(fnv1aUpdate(fnv1aUpdate(FNV1A_OFFSET, 'node'), '-1'), fnv1a32('node-1'))
  assert.is(fnv1aUnit(fnv1aUpdate(FNV1A_OFFSET, 'node-'), '1'.charCodeAt(0)), fnv1a32('node-1'))
})

test('placement: shards of known ids over three nodes do not move', () => {
  const table = Allocation.compute(['n1', 'n2', 'n3'], 64)
  assert.equal([0, 1, 2, 3, 4, 5, 6, 7].map((s) => table.ownerOf(s)), PLACEMENT)
})

const PLACEMENT = ['n2', 'n1', 'n3', 'n2', 'n3', 'n1', 'n1', 'n2']

test.run()
