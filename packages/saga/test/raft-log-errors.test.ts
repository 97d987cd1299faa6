import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RaftGroupError, RaftGroupErrorCode } from '@troupe/raft'
import { ErrorCode, RemoteError, TroupeError } from '@troupe/runtime'
import { RaftSagaLog } from '../src/index.js'

/**
 * Which failures of the Raft group the saga log retries (LOG_UNAVAILABLE).
 * A group request rejects with a RaftGroupError (its own codes, also those a
 * remote host answered with: the router turns every forwarding failure into a
 * reply value), or with the TroupeError of the ask to the local Raft host
 * that RaftGroup does not turn into a reply itself.
 */
const retried = ['NOT_LEADER', 'TIMEOUT', 'OVERLOADED', 'SESSION_EXPIRED', 'ASK_TIMEOUT', 'NODE_UNREACHABLE', 'ACTOR_NOT_FOUND', 'BACKPRESSURE', 'MAILBOX_FULL']

/** What a failed append becomes when the group rejects with `err`. */
async function appendFailure(err: unknown): Promise<string> {
  const group = { propose: () => Promise.reject(err), read: () => Promise.reject(err), stop: async () => {} }
  const log = RaftSagaLog.over(group as never)
  try {
    await log.append({ id: 's', seq: 0, records: [] })
  } catch (e) {
    return (e as { code: string }).code
  }
  return 'ok'
}

function expected(code: string): string {
  if (retried.includes(code)) return 'LOG_UNAVAILABLE'
  return code === 'INVALID_ARGUMENT' ? 'INVALID_ARGUMENT' : 'LOG_FAILED'
}

test('every group error code: the retryable ones are retried, INVALID_ARGUMENT stays, the rest fail the log', async () => {
  for (const code of Object.values(RaftGroupErrorCode)) {
    assert.is(await appendFailure(new RaftGroupError(code, 'x')), expected(code), code)
  }
})

test('runtime codes of the ask to the local host: retried as before (a full host mailbox too)', async () => {
  // SHARD_BUFFER_FULL and ACTIVATION_LOST come from entity asks only; the Raft host is a system actor.
  const entityOnly = ['SHARD_BUFFER_FULL', 'ACTIVATION_LOST']
  for (const code of Object.values(ErrorCode)) {
    if (entityOnly.includes(code)) continue
    assert.is(await appendFailure(new TroupeError(code, 'x')), expected(code), code)
  }
})

test('reads map the same way', async () => {
  const group = { read: () => Promise.reject(new RaftGroupError('NOT_LEADER', 'x')) }
  try {
    await RaftSagaLog.over(group as never).read('s')
    assert.unreachable('read should reject')
  } catch (e) {
    assert.is((e as { code: string }).code, 'LOG_UNAVAILABLE')
  }
})

test('a remote handler failure keeps its code and is retried only when a runtime code says so', async () => {
  assert.is(await appendFailure(new RemoteError('ASK_TIMEOUT', 'x', 'TroupeError')), 'LOG_UNAVAILABLE')
  assert.is(await appendFailure(new RemoteError('DISK_FULL', 'x', 'AppError')), 'LOG_FAILED')
})

test.run()
