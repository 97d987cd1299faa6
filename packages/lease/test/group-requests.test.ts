// Which failures of the group the client sends again: exactly those a
// RaftGroup reports as retryable (its own NOT_LEADER, TIMEOUT, OVERLOADED,
// SESSION_EXPIRED, and the runtime's retryable ask failures it passes on).
// A RaftGroup never lets a failure from another node through as such: a
// forwarded request that fails there comes back as a HostReply, and the
// handle throws a RaftGroupError of its own (NOT_LEADER or TIMEOUT) for it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, ManualClock, TroupeError } from '@troupe/runtime'
import type { ErrorCode } from '@troupe/runtime'
import { RaftGroupError } from '@troupe/raft'
import type { RaftGroupErrorCode } from '@troupe/raft'
import { GroupRequests } from '../src/client/group-requests.js'
import { Waits } from '../src/client/waits.js'
import { Leases } from '../src/client/leases.js'
import { isLeaseError } from '../src/lease-error.js'
import { FakeGroup, waitFor } from './fake-group.js'

function setup() {
  const clock = new ManualClock(1_000_000)
  const system = new ActorSystem({ name: 'n1', clock, random: () => 0.5 })
  const group = new FakeGroup(system, clock)
  return { clock, group, leases: new Leases(system, group.client, { requestTimeoutMs: 500 }) }
}

const RETRIED_RAFT: RaftGroupErrorCode[] = ['NOT_LEADER', 'TIMEOUT', 'OVERLOADED', 'SESSION_EXPIRED']
const FINAL_RAFT: RaftGroupErrorCode[] = ['GROUP_STOPPED', 'COMMAND_FAILED', 'CONF_CHANGE_REJECTED', 'TRANSFER_REJECTED', 'INVALID_ARGUMENT']
const RETRIED_RUNTIME: ErrorCode[] = ['ASK_TIMEOUT', 'NODE_UNREACHABLE', 'ACTOR_NOT_FOUND', 'BACKPRESSURE']
const FINAL_RUNTIME: ErrorCode[] = ['ACTOR_STOPPED', 'MAILBOX_FULL', 'HANDLER_FAILED', 'UNKNOWN_MESSAGE', 'SYSTEM_STOPPED', 'CODEC_ERROR', 'MESSAGE_TOO_LARGE']

const raft = (code: RaftGroupErrorCode) => new RaftGroupError(code, code)
const runtime = (code: ErrorCode) => new TroupeError(code, code)

test('a read is sent again after each retryable failure, and succeeds', async () => {
  for (const err of [...RETRIED_RAFT.map(raft), ...RETRIED_RUNTIME.map(runtime)]) {
    const { clock, group, leases } = setup()
    group.failures.push(err, err)
    const info = await waitFor(clock, leases.get('x'))
    assert.is(info.name, 'x', (err as Error).message)
    assert.is(group.failures.length, 0)
  }
})

test('an acquire is sent again after a retryable failure, and is granted', async () => {
  for (const err of [...RETRIED_RAFT.map(raft), ...RETRIED_RUNTIME.map(runtime)]) {
    const { clock, group, leases } = setup()
    group.failures.push(err)
    const lease = await waitFor(clock, leases.acquire('x', { ttlMs: 1000 }))
    assert.is(lease.token, group.index, (err as Error).message)
  }
})

test('any other failure ends the request: UNAVAILABLE with the failure as cause (INVALID_ARGUMENT stays one)', async () => {
  for (const err of [...FINAL_RAFT.map(raft), ...FINAL_RUNTIME.map(runtime), new Error('plain')]) {
    const { clock, group, leases } = setup()
    group.failures.push(err)
    const failed = await waitFor(clock, leases.get('x')).then(() => null, (e: unknown) => e)
    const expected = (err as { code?: string }).code === 'INVALID_ARGUMENT' ? 'INVALID_ARGUMENT' : 'UNAVAILABLE'
    assert.ok(isLeaseError(failed, expected), `${(err as Error).message}: ${String(failed)}`)
    assert.is((failed as Error).cause, err)
    assert.is(group.failures.length, 0)
  }
})

test('backoff: min·2^n (n at most 20) capped at max, then equal jitter, one random number per delay', () => {
  for (const [min, max] of [[20, 1000], [1, 2 ** 30], [7, 7], [50, 120]] as const) {
    const draws = [0, 0.25, 0.5, 0.999999, 0.123456789]
    let next = 0
    const clock = new ManualClock(0)
    const requests = new GroupRequests({
      group: { propose: async () => null, read: async () => null }, clientId: 'c', clock, random: () => draws[next++ % draws.length]!,
      waits: new Waits(clock), requestTimeoutMs: 100, backoff: { min, max }, closed: () => false,
    })
    for (let failures = 0; failures < 40; failures++) {
      const r = draws[next % draws.length]!
      const base = Math.min(max, min * 2 ** Math.min(failures, 20))
      const before = next
      assert.is(requests.backoffMs(failures), base / 2 + r * (base / 2), `min ${min} max ${max} failures ${failures}`)
      assert.is(next, before + 1)
    }
  }
})

test.run()
