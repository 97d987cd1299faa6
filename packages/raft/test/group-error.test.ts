// One vocabulary from host reply to thrown error: the reply's `retry` is the
// handle's own decision (resend before the deadline); the thrown error's
// `retryable` follows from its code and is what the caller may do.
import { isRetryable } from '@troupe/runtime/errors'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { RaftGroupErrorCode, isRaftGroupError } from '../src/index.js'
import { replyError } from '../src/group/group-error.js'
import { errorReply } from '../src/group/host-protocol.js'

const callerRetryable = new Set(['NOT_LEADER', 'TIMEOUT', 'OVERLOADED', 'SESSION_EXPIRED'])

test('a failed reply becomes a RaftGroupError with its code and leader hint; retryable by code, whatever the reply said about resending', () => {
  for (const code of Object.values(RaftGroupErrorCode)) {
    for (const retry of [false, true]) {
      const err = replyError(errorReply(code, `m-${code}`, 'b', retry) as Parameters<typeof replyError>[0])
      assert.ok(isRaftGroupError(err, code))
      assert.is(err.message, `m-${code}`)
      assert.is(err.leaderHint, 'b')
      assert.is(err.retryable, callerRetryable.has(code), `${code} (retry ${retry})`)
      assert.is(isRetryable(err), callerRetryable.has(code))
    }
  }
})

test.run()
