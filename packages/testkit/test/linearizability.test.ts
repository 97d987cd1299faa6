import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { checkLinearizability } from '../src/linearizability/checker.js'
import { kvModel } from '../src/linearizability/kv-model.js'
import type { KvInput } from '../src/linearizability/kv-model.js'
import { registerModel } from '../src/linearizability/register-model.js'
import { WindowedBitset } from '../src/linearizability/windowed-bitset.js'
import { Prng } from '../src/prng.js'
import type { RegOp } from './histories.js'
import { bruteForceLinearizable, cas, info, ok, randomRegisterHistory, read, write, writeInfo } from './histories.js'
import { simulateKv } from './kv-simulation.js'
import type { KvOp } from './kv-simulation.js'

const register = registerModel<number>({ initial: 0 })
const check = (ops: RegOp[]) => checkLinearizability(register, ops)
const verdict = (ops: RegOp[]): string => check(ops).result

const hand = suite('hand-made register histories')

hand('empty and sequential histories are linearizable', () => {
  assert.is(verdict([]), 'ok')
  assert.is(verdict([write(0, 1, 0, 1), read(0, 1, 2, 3), cas(1, 1, 2, true, 4, 5), cas(1, 1, 3, false, 6, 7), read(0, 2, 8, 9)]), 'ok')
})

hand('a read overlapping a write may see either the old or the new value', () => {
  assert.is(verdict([write(0, 1, 0, 10), read(1, 0, 2, 4)]), 'ok')
  assert.is(verdict([write(0, 1, 0, 10), read(1, 1, 2, 4)]), 'ok')
  // But once it has seen the new value, a later read cannot see the old one.
  assert.is(verdict([write(0, 1, 0, 10), read(1, 1, 2, 4), read(1, 0, 5, 6)]), 'illegal')
})

hand('concurrent writes may land in either order, but all later readers agree', () => {
  const writes = [write(0, 1, 0, 10), write(1, 2, 0, 10)]
  assert.is(verdict([...writes, read(2, 1, 11, 12), read(2, 1, 13, 14)]), 'ok')
  assert.is(verdict([...writes, read(2, 2, 11, 12), read(2, 2, 13, 14)]), 'ok')
  assert.is(verdict([...writes, read(2, 1, 11, 12), read(2, 2, 13, 14)]), 'illegal')
})

hand('stale read: a read after a completed write returns the old value', () => {
  assert.is(verdict([write(0, 1, 0, 1), read(1, 0, 2, 3)]), 'illegal')
})

hand('lost update: two read-then-CAS increments from the same value both succeed', () => {
  const history = [
    read(0, 0, 0, 2),
    read(1, 0, 1, 2),
    cas(0, 0, 1, true, 3, 5),
    cas(1, 0, 1, true, 4, 6),
  ]
  assert.is(verdict(history), 'illegal')
  history[3] = cas(1, 0, 1, false, 4, 6) // the correct outcome: the second CAS fails
  assert.is(verdict(history), 'ok')
})

hand('a read of a value nobody wrote', () => {
  assert.is(verdict([write(0, 1, 0, 1), read(1, 7, 2, 3)]), 'illegal')
})

hand('a read of a value written by a write that started after the read returned', () => {
  assert.is(verdict([read(0, 1, 0, 1), write(1, 1, 2, 3)]), 'illegal')
  assert.is(verdict([read(0, 1, 0, 2), write(1, 1, 2, 3)]), 'ok', 'equal timestamps count as overlapping')
})

hand('info writes may or may not be observed, and may take effect late', () => {
  assert.is(verdict([writeInfo(0, 5, 0), read(1, 5, 2, 3)]), 'ok', 'observed')
  assert.is(verdict([writeInfo(0, 5, 0), read(1, 0, 2, 3), read(1, 0, 4, 5)]), 'ok', 'never observed')
  assert.is(verdict([writeInfo(0, 5, 0), read(1, 0, 2, 3), write(2, 6, 4, 5), read(1, 6, 6, 7), read(1, 5, 8, 9)]), 'ok', 'late')
  assert.is(verdict([cas(0, 0, 1, true, 0, 1), info(1, { op: 'cas', expected: 1, value: 2 }, 2), read(0, 2, 5, 6)]), 'ok', 'info cas')
})

hand('an info write cannot explain a read that ended before it was called, or undo itself', () => {
  assert.is(verdict([read(1, 5, 0, 1), writeInfo(0, 5, 2)]), 'illegal')
  assert.is(verdict([writeInfo(0, 5, 0), read(1, 5, 2, 3), read(1, 0, 4, 5)]), 'illegal')
})

hand('the explanation names the operation that cannot be placed, with times and state', () => {
  const history = [write(0, 1, 0, 1), write(0, 2, 2, 3), read(1, 1, 4, 5), write(0, 3, 6, 7)]
  const result = check(history)
  assert.is(result.result, 'illegal')
  const text = result.explanation ?? ''
  console.log(`    explanation:\n${text.replace(/^/gm, '      ')}`)
  assert.match(text, 'op #2 client 1: read() -> 1  [call 4, return 5]  -- impossible in this state')
  assert.match(text, 'State after that prefix: 2')
  assert.match(text, 'Longest linearizable prefix found: 2 of 4 operations')
  assert.equal(result.longestPrefix, [history[0], history[1]])
  assert.equal(result.blocked, [history[2]])
  assert.is(result.stateAfterPrefix, 2)
})

hand('invalid operations are rejected', () => {
  assert.throws(() => check([write(0, 1, 5, 4)]), /returns before it is called/)
  assert.throws(() => check([write(0, 1, 0, Infinity)]), /no finite return/)
  assert.throws(() => check([write(0, 1, Number.NaN, 1)]), /call time/)
})

hand.run()

const kv = suite('key-value model')
const kvm = kvModel<string, number>()
type Kv = KvInput<string, number>

kv('keys are checked separately, and the failing key is named', () => {
  const history: KvOp[] = [
    ok<Kv, unknown>(0, { op: 'put', key: 'a', value: 1 }, undefined, 0, 1),
    ok<Kv, unknown>(1, { op: 'put', key: 'b', value: 2 }, undefined, 0, 1),
    ok<Kv, unknown>(0, { op: 'get', key: 'a' }, 1, 2, 3),
    ok<Kv, unknown>(1, { op: 'get', key: 'b' }, undefined, 2, 3),
  ]
  const result = checkLinearizability(kvm, history)
  assert.is(result.result, 'illegal')
  assert.is(result.partitions, 2)
  assert.is(result.partitionLabel, 'key "b"')
  assert.match(result.explanation ?? '', 'Not linearizable: key "b", partition 2 of 2 (2 operations)')
  assert.match(result.explanation ?? '', 'op #3 client 1: get("b") -> absent')
  history[3]!.output = 2
  assert.is(checkLinearizability(kvm, history).result, 'ok')
})

kv('cas on an absent key, delete reporting existence, append builds a list', () => {
  const k = 'x'
  const history: KvOp[] = [
    ok<Kv, unknown>(0, { op: 'cas', key: k, expected: undefined, value: 1 }, true, 0, 1),
    ok<Kv, unknown>(0, { op: 'delete', key: k }, true, 2, 3),
    ok<Kv, unknown>(0, { op: 'delete', key: k }, false, 4, 5),
    ok<Kv, unknown>(0, { op: 'append', key: k, value: 7 }, undefined, 6, 7),
    ok<Kv, unknown>(0, { op: 'append', key: k, value: 8 }, undefined, 8, 9),
    ok<Kv, unknown>(0, { op: 'get', key: k }, [7, 8], 10, 11),
  ]
  assert.is(checkLinearizability(kvm, history).result, 'ok')
  const flipped = history.map((op) => ({ ...op }))
  flipped[2]!.output = true
  assert.is(checkLinearizability(kvm, flipped).result, 'illegal', 'second delete cannot find the key')
  const reordered = history.map((op) => ({ ...op }))
  reordered[5]!.output = [8, 7]
  assert.is(checkLinearizability(kvm, reordered).result, 'illegal', 'appends keep their real-time order')
})

kv.run()

const fuzz = suite('against a brute-force oracle')

// Without isReadOnly the checker neither drops info reads nor places reads
// first, so both search paths are compared with the oracle.
const { isReadOnly: _, ...registerWithoutReads } = register
for (const { name, seed, cases, maxOps, infoP, mutateP } of [
  { name: 'few info ops', seed: 2024, cases: 3000, maxOps: 7, infoP: 0.15, mutateP: 0.5 },
  { name: 'many info ops', seed: 99, cases: 1500, maxOps: 9, infoP: 0.4, mutateP: 0.9 },
  // Larger: reaches the rare shapes where info-operation pruning could go wrong.
  { name: 'up to 12 ops', seed: 2, cases: 1000, maxOps: 12, infoP: 0.4, mutateP: 0.7 },
]) {
  fuzz(`small random register histories (${name}) get the verdict of trying every order`, () => {
    const rng = new Prng(seed)
    const counts = { ok: 0, illegal: 0 }
    for (let i = 0; i < cases; i++) {
      const history = randomRegisterHistory(rng, maxOps, mutateP, infoP)
      const expected = bruteForceLinearizable(register, history) ? 'ok' : 'illegal'
      for (const model of [register, registerWithoutReads]) {
        const actual = checkLinearizability(model, history).result
        if (actual !== expected) {
          const which = model === register ? '' : ' (no isReadOnly)'
          assert.unreachable(`case ${i}: checker${which} ${actual}, brute force ${expected}: ${JSON.stringify(history)}`)
        }
      }
      counts[expected]++
    }
    console.log(`    oracle cases (${name}): ${counts.ok} ok, ${counts.illegal} illegal`)
    assert.ok(counts.ok > cases / 8 && counts.illegal > cases / 8, 'both verdicts are exercised')
  })
}

fuzz.run()

const bitset = suite('windowed bitset (the memo key for linearized sets)')

bitset('snapshots are canonical (equal sets, equal strings) and contains() is the subset test', () => {
  const rng = new Prng(31)
  const size = 200
  const bits = new WindowedBitset(size)
  const reference = new Set<number>()
  const taken: { snapshot: string; members: Set<number> }[] = []
  const fresh = (members: Set<number>): WindowedBitset => {
    const b = new WindowedBitset(size)
    for (const m of [...members].sort((x, y) => x - y)) b.toggle(m)
    return b
  }
  const toggle = (index: number): void => {
    bits.toggle(index)
    if (reference.has(index)) reference.delete(index)
    else reference.add(index)
  }
  const subset = (a: Set<number>, b: Set<number>): boolean => [...a].every((x) => b.has(x))
  const hex = (snapshot: string): string => [...snapshot].map((c) => c.charCodeAt(0).toString(16)).join(' ')
  let subsets = 0
  for (let i = 0; i < 4000; i++) {
    const sparse = Math.floor(i / 500) % 2 === 1
    const r = rng.next()
    if (sparse || r > 0.95) {
      toggle(rng.int(size)) // scattered bits, gaps of zero words
    } else if (r < 0.8) {
      let index = rng.int(8) // fill from the front, as the search does
      while (index < size && reference.has(index)) index++
      if (index < size) toggle(index)
    } else if (reference.size > 0) {
      toggle(rng.pick([...reference]))
    }
    if (i % 1000 === 999) for (const index of [...reference]) toggle(index)
    assert.is(hex(bits.snapshot()), hex(fresh(reference).snapshot()), `step ${i}`)
    if (i % 10 === 0) taken.push({ snapshot: bits.snapshot(), members: new Set(reference) })
    if (i % 100 === 0) {
      for (const t of taken) {
        const expected = subset(t.members, reference)
        assert.is(bits.contains(t.snapshot), expected, `step ${i}`)
        if (expected) subsets++
      }
    }
  }
  assert.ok(subsets > 100, `non-trivial subset pairs were compared (${subsets})`)
  // A full prefix in the snapshot needs the same words full here.
  const full = new WindowedBitset(64)
  for (let i = 0; i < 64; i++) full.toggle(i)
  const fullSnapshot = full.snapshot()
  for (const cleared of [5, 40, 63]) {
    full.toggle(cleared)
    assert.is(full.contains(fullSnapshot), false, `bit ${cleared} cleared`)
    full.toggle(cleared)
  }
  assert.is(full.contains(fullSnapshot), true)
})

bitset.run()

const big = suite('a 10,000-operation simulated history')
const options = { seed: 7, clients: 10, keys: 10, operations: 10_000, infoRate: 0.03, failRate: 0.02 }
const history = simulateKv(options)

big('a linearizable history is accepted', () => {
  const infos = history.filter((op) => op.outcome === 'info').length
  const start = performance.now()
  const result = checkLinearizability(kvm, history)
  const elapsedMs = performance.now() - start
  console.log(
    `    ${history.length} ops (${infos} info) over ${result.partitions} keys, ${options.clients} clients: ${result.result} in ${elapsedMs.toFixed(0)} ms, ${result.steps} steps`,
  )
  assert.is(result.result, 'ok', result.explanation)
  assert.ok(infos > 100, 'info operations are exercised')
})

big('the same history with one stale read is rejected, and the read is named', () => {
  const { mutated, index } = withStaleRead(history)
  const start = performance.now()
  const result = checkLinearizability(kvm, mutated)
  const elapsedMs = performance.now() - start
  console.log(`    stale read at op #${index}: ${result.result} in ${elapsedMs.toFixed(0)} ms, ${result.steps} steps`)
  assert.is(result.result, 'illegal')
  assert.match(result.explanation ?? '', `op #${index} client`)
  assert.ok(result.blocked?.includes(mutated[index]!))
})

big('the same history with a read of a never-written value is rejected', () => {
  const mutated = history.map((op) => ({ ...op }))
  const index = mutated.findIndex((op, i) => i > 5000 && op.outcome === 'ok' && op.input.op === 'get')
  mutated[index]!.output = -1
  const result = checkLinearizability(kvm, mutated)
  assert.is(result.result, 'illegal')
  assert.match(result.explanation ?? '', `op #${index} client`)
})

big('a step budget too small yields unknown, not a verdict', () => {
  const result = checkLinearizability(kvm, history, { maxSteps: 500 })
  assert.is(result.result, 'unknown')
  // The budget is checked between steps; one dead end's info candidates may overshoot it.
  assert.ok(result.steps >= 500 && result.steps < 1000, `steps ${result.steps}`)
  assert.match(result.explanation ?? '', 'Gave up after 500 search steps')
})

big.run()

/**
 * Changes a read in the second half to return the value of a put that was
 * overwritten by another put before the read was called. Values are unique
 * per write, so no order can explain it.
 */
function withStaleRead(ops: KvOp[]): { mutated: KvOp[]; index: number } {
  for (let i = Math.floor(ops.length / 2); i < ops.length; i++) {
    const r = ops[i]!
    if (r.outcome !== 'ok' || r.input.op !== 'get') continue
    const key = r.input.key
    const puts = ops.filter((op) => op.outcome === 'ok' && op.input.op === 'put' && op.input.key === key && op.return < r.call)
    const w2 = puts.reduce<KvOp | undefined>((best, op) => (best === undefined || op.return > best.return ? op : best), undefined)
    const w1 = w2 && puts.filter((op) => op.return < w2.call).at(-1)
    if (w1 === undefined || w1.input.op !== 'put') continue
    const mutated = ops.map((op) => ({ ...op }))
    mutated[i]!.output = w1.input.value
    return { mutated, index: i }
  }
  throw new Error('no read suitable for a stale-read mutation')
}
