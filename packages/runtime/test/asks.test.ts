import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ManualClock, TroupeError } from '@troupe/runtime'
import { Asks } from '../src/internal/asks.js'

function setup(firstId = 1) {
  const clock = new ManualClock()
  const late: string[] = []
  const asks = new Asks(clock, 100, (recipient) => late.push(recipient), firstId)
  const settled: string[] = []
  const start = (type: string, timeoutMs?: number) =>
    asks.start({ address: '/user/x' }, type, timeoutMs, (v) => settled.push(`${type}=${String(v)}`), (e) => settled.push(`${type}!${(e as TroupeError).code}`))
  return { clock, asks, late, settled, start }
}

test('an ask times out at its deadline (the default when it names none) and a late reply is a dead letter', () => {
  const { clock, late, settled, start } = setup()
  const a = start('a')
  start('b', 30)
  clock.advance(40)
  assert.equal(settled, ['b!ASK_TIMEOUT'])
  clock.advance(70)
  assert.equal(settled, ['b!ASK_TIMEOUT', 'a!ASK_TIMEOUT'])
  a.resolve(1)
  assert.equal(late, ["ask 'a' to /user/x"])
})

test('remote asks get ids in order from the first; a reply settles only the ask of its node', () => {
  const { asks, settled, start } = setup(5000)
  const a = start('a')
  const b = start('b')
  assert.is(asks.track(a, 'n1'), 5000)
  assert.is(asks.track(b, 'n2'), 5001)
  assert.is(asks.take(5000, 'n2'), undefined)
  asks.take(5000, 'n1')!.resolve('ok')
  assert.is(asks.take(5000, 'n1'), undefined)
  asks.failNode('n2')
  assert.equal(settled, ['a=ok', 'b!NODE_UNREACHABLE'])
  assert.is(asks.take(5001, 'n2'), undefined)
})

test('a timed-out remote ask leaves the table', () => {
  const { clock, asks, start } = setup()
  const a = start('a', 10)
  const id = asks.track(a, 'n1')
  clock.advance(20)
  assert.is(asks.take(id, 'n1'), undefined)
})

test.run()
