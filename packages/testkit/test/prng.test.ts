import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Prng } from '../src/prng.js'

// uvu's assert.throws takes a predicate or a RegExp, not a class.
const isRangeError = (error: unknown): boolean => error instanceof RangeError

const draw = (rng: Prng, n: number): number[] => Array.from({ length: n }, () => rng.uint32())

test('the same seed gives the same sequence, pinned so old failing seeds keep replaying', () => {
  assert.equal(draw(new Prng(42), 5), [1898084789, 774767113, 2478496084, 695735788, 3541211122])
  assert.equal(draw(new Prng(2 ** 40 + 7), 2), [2093986181, 691728353])
  assert.equal(draw(new Prng(7), 1000), draw(new Prng(7), 1000))
})

test('different seeds, including ones equal mod 2^32, give different sequences', () => {
  assert.not.equal(draw(new Prng(1), 4), draw(new Prng(2), 4))
  assert.not.equal(draw(new Prng(5), 4), draw(new Prng(5 + 2 ** 32), 4))
  assert.not.equal(draw(new Prng(0), 4), draw(new Prng(-1), 4))
})

test('seed must be a safe integer', () => {
  assert.throws(() => new Prng(1.5), isRangeError)
  assert.throws(() => new Prng(Number.NaN), isRangeError)
  assert.is(new Prng(123).seed, 123)
})

test('next() stays in [0, 1) and int/range stay in bounds and cover them', () => {
  const rng = new Prng(3)
  const seen = new Set<number>()
  for (let i = 0; i < 10_000; i++) {
    const x = rng.next()
    assert.ok(x >= 0 && x < 1)
    const n = rng.int(7)
    assert.ok(Number.isInteger(n) && n >= 0 && n < 7)
    const r = rng.range(-2, 2)
    assert.ok(Number.isInteger(r) && r >= -2 && r <= 2)
    seen.add(r)
  }
  assert.equal([...seen].sort(), [-1, -2, 0, 1, 2])
  assert.is(rng.int(1), 0)
  assert.is(rng.range(5, 5), 5)
  assert.throws(() => rng.int(0), isRangeError)
  assert.throws(() => rng.int(2.5), isRangeError)
  assert.throws(() => rng.range(3, 2), isRangeError)
})

test('int is roughly uniform (a biased modulo would skew a large range)', () => {
  const rng = new Prng(11)
  const buckets = new Array<number>(3).fill(0)
  // 3 * 2^30 is where `uint32 % n` bias is worst: low residues would get 2x.
  const n = 3 * 2 ** 30
  for (let i = 0; i < 30_000; i++) buckets[Math.floor(rng.int(n) / 2 ** 30)]++
  for (const count of buckets) assert.ok(count > 9_000 && count < 11_000, `bucket ${count}`)
})

test('chance respects its extremes and its rate', () => {
  const rng = new Prng(5)
  let hits = 0
  for (let i = 0; i < 10_000; i++) {
    assert.is(rng.chance(0), false)
    assert.is(rng.chance(1), true)
    if (rng.chance(0.25)) hits++
  }
  assert.ok(hits > 2_200 && hits < 2_800, `hits ${hits}`)
})

test('pick and shuffle', () => {
  const rng = new Prng(9)
  assert.throws(() => rng.pick([]), isRangeError)
  const items = ['a', 'b', 'c']
  const picked = new Set<string>()
  for (let i = 0; i < 100; i++) picked.add(rng.pick(items))
  assert.equal([...picked].sort(), items)
  const array = Array.from({ length: 50 }, (_, i) => i)
  const same = rng.shuffle(array)
  assert.is(same, array, 'shuffles in place')
  assert.equal([...array].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i))
  assert.not.equal(array, Array.from({ length: 50 }, (_, i) => i))
  assert.equal(new Prng(1).shuffle([1, 2, 3, 4, 5, 6]), new Prng(1).shuffle([1, 2, 3, 4, 5, 6]))
})

test('fork: same label same stream, regardless of draws made before forking', () => {
  const a = new Prng(100)
  const b = new Prng(100)
  draw(b, 37)
  assert.equal(draw(a.fork('network'), 10), draw(b.fork('network'), 10))
  assert.equal(draw(new Prng(a.fork('network').seed), 10), draw(a.fork('network'), 10), 'child seed replays it')
})

test('fork: labels and parents give independent streams', () => {
  const root = new Prng(100)
  assert.not.equal(draw(root.fork('network'), 4), draw(root.fork('disk'), 4))
  assert.not.equal(draw(root.fork('network'), 4), draw(new Prng(101).fork('network'), 4))
  assert.not.equal(draw(root.fork('network'), 4), draw(root, 4))
})

test('fork: drawing more in one subsystem does not shift another', () => {
  const run = (extraNetworkDraws: number): number[] => {
    const root = new Prng(8)
    const network = root.fork('network')
    const disk = root.fork('disk')
    const out: number[] = []
    for (let i = 0; i < 20; i++) {
      draw(network, 1 + (i % 3 === 0 ? extraNetworkDraws : 0))
      out.push(disk.uint32())
    }
    return out
  }
  assert.equal(run(0), run(5))
})

test.run()
