import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Prng } from '../src/prng.js'
import { EventQueue } from '../src/sim/event-queue.js'
import type { SimEvent } from '../src/sim/event-queue.js'
import { parseSeed, replayCommand, simSeeds } from '../src/sim/seeds.js'

test('events come out by time, then rank, then insertion; cancelled ones never', () => {
  const rng = new Prng(5)
  const q = new EventQueue(100_000)
  const live: SimEvent[] = []
  for (let i = 0; i < 5000; i++) {
    const at = rng.int(50)
    const e = q.push({ at, rank: rng.chance(0.1) ? at - 1 - rng.int(10) : at, run() {} })
    if (rng.chance(0.5)) q.cancel(e)
    else live.push(e)
  }
  assert.is(q.size, live.length)
  const out: SimEvent[] = []
  for (let e = q.pop(); e !== undefined; e = q.pop()) out.push(e)
  const expected = [...live].sort((x, y) => x.at - y.at || x.rank - y.rank || x.seq - y.seq)
  assert.equal(out.map((e) => e.seq), expected.map((e) => e.seq))
  assert.is(q.size, 0)
  q.cancel(out[0]!)
  assert.is(q.size, 0, 'cancelling an event that already ran changes nothing')
})

test('a full queue fails with EVENT_QUEUE_FULL, after dropping cancelled events', () => {
  const q = new EventQueue(10)
  const events = Array.from({ length: 10 }, (_, i) => q.push({ at: i, rank: i, run() {} }))
  q.cancel(events[3]!)
  q.push({ at: 99, rank: 99, run() {} })
  assert.throws(() => q.push({ at: 100, rank: 100, run() {} }), (e: any) => e.code === 'EVENT_QUEUE_FULL')
})

test('seeds: SIM_SEED replays one seed; bad seeds are rejected; the replay command is one line', () => {
  const saved = process.env.SIM_SEED
  try {
    delete process.env.SIM_SEED
    assert.equal(simSeeds(3, 10), [10, 11, 12])
    process.env.SIM_SEED = '777'
    assert.equal(simSeeds(3, 10), [777])
    assert.throws(() => parseSeed('12abc'), (e: any) => e.code === 'BAD_SEED')
    assert.throws(() => parseSeed('1e30'), (e: any) => e.code === 'BAD_SEED')
    assert.is(parseSeed('-5'), -5)
    assert.is(replayCommand(42), 'SIM_SEED=42 pnpm test testkit')
  } finally {
    if (saved === undefined) delete process.env.SIM_SEED
    else process.env.SIM_SEED = saved
  }
})

test.run()
