import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RestartWindow, restartDelayMs } from '../src/internal/supervisor.js'

test('restarts within the window are numbered; past maxRestarts the window is full until old ones age out', () => {
  const w = new RestartWindow()
  assert.equal([w.admit(0, 2, 100), w.admit(10, 2, 100), w.admit(20, 2, 100)], [0, 1, -1])
  assert.is(w.admit(105, 2, 100), 1)
})

test('the restart delay: min·factor^n capped at max, plus up to jitter·delay (one random draw); none without backoff', () => {
  let draws = 0
  const half = () => (draws++, 0.5)
  assert.is(restartDelayMs(undefined, 3, half), 0)
  assert.is(draws, 0)
  assert.is(restartDelayMs({ minMs: 100, maxMs: 10_000 }, 2, half), 440)
  assert.is(restartDelayMs({ minMs: 100, maxMs: 10_000, factor: 3, jitter: 0 }, 2, half), 900)
  assert.is(restartDelayMs({ minMs: 100, maxMs: 1000 }, 9, half), 1000)
  assert.is(draws, 3)
})

test.run()
