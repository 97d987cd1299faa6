import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { FixedMembershipView, ManualClock } from '@troupe/runtime'
import { recoverOnFailover } from '@troupe/saga'
import type { SagaCoordinator } from '@troupe/saga'

test('recovers its own sagas at once, a dead owner’s on a view change, and retries on a period', async () => {
  const calls: string[][] = []
  const coordinator = { recover: async (o: { owners: string[] }) => (calls.push(o.owners), []) } as unknown as SagaCoordinator
  const view = new FixedMembershipView('a', ['a', 'b', 'c'])
  const clock = new ManualClock(0)
  const failover = recoverOnFailover(coordinator, { view, owners: ['a', 'b', 'c'], clock, everyMs: 1000 })
  await Promise.resolve()
  assert.equal(calls, [['a']])
  view.set(['a', 'c'])
  await Promise.resolve()
  assert.equal(calls.at(-1), ['a', 'b'], 'b left the view: its sagas are taken over')
  clock.advance(1000)
  await Promise.resolve()
  assert.is(calls.length, 3, 'periodic retry')
  failover.stop()
  clock.advance(5000)
  view.set(['a'])
  await Promise.resolve()
  assert.is(calls.length, 3, 'nothing after stop')
})

test.run()
