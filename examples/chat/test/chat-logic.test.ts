// The chat's pure pieces: what a browser may send, the rate limits, and the
// replicated history (ring buffer, seq numbers, retried posts stored once,
// snapshot and restore).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { ApplyMeta } from '@troupe/raft'
import { HistoryMachine } from '../src/history.js'
import { HISTORY_PER_ROOM, MAX_TEXT_CHARS } from '../src/limits.js'
import type { ChatMessage } from '../src/protocol.js'
import { KeyedLimiter, TokenBucket } from '../src/token-bucket.js'
import { parseClientFrame } from '../src/validate.js'

const validate = suite('validate')

const code = (data: string): string | null => {
  const r = parseClientFrame(data)
  return r.ok ? null : r.code
}

validate('well-formed frames pass, trimmed', () => {
  assert.equal(parseClientFrame('{"t":"post","room":"general","text":"  hi  ","cid":"abc"}'), { ok: true, value: { t: 'post', room: 'general', text: 'hi', cid: 'abc' } })
  assert.equal(parseClientFrame('{"t":"hello","user":"Zoë_1"}'), { ok: true, value: { t: 'hello', user: 'Zoë_1' } })
  assert.equal(parseClientFrame('{"t":"join","room":"dev-ops_2"}'), { ok: true, value: { t: 'join', room: 'dev-ops_2' } })
})

validate('room names: lower-case, digits, - and _, at most 32', () => {
  for (const room of ['General', 'a b', '-x', '', 'x'.repeat(33), '../etc', 'room:1', '<b>']) {
    assert.is(code(JSON.stringify({ t: 'join', room })), 'INVALID_ROOM', room)
  }
  assert.is(code(JSON.stringify({ t: 'join', room: 'x'.repeat(32) })), null)
  assert.is(code(JSON.stringify({ t: 'join', room: 7 })), 'INVALID_ROOM')
})

validate('message text: not empty, at most MAX_TEXT_CHARS code points, no control or bidi characters', () => {
  const post = (text: unknown) => code(JSON.stringify({ t: 'post', room: 'r', text, cid: 'c1' }))
  assert.is(post('   '), 'MESSAGE_EMPTY')
  assert.is(post('x'.repeat(MAX_TEXT_CHARS + 1)), 'MESSAGE_TOO_LONG')
  assert.is(post('😀'.repeat(MAX_TEXT_CHARS)), null, 'emoji count as one character each')
  assert.is(post('bell\u0007'), 'INVALID_TEXT')
  assert.is(post('evil\u202Etxt'), 'INVALID_TEXT')
  assert.is(post('lone \uD800 surrogate'), 'INVALID_TEXT')
  assert.is(post('two\nlines\tand a tab'), null)
  assert.is(post(42), 'BAD_REQUEST')
})

validate('anything else is a BAD_REQUEST', () => {
  for (const data of ['not json', '[]', 'null', '"str"', '{"t":"nope"}', '{"t":"post","room":"r","text":"x","cid":"bad cid!"}', `{"t":"rooms","pad":"${'x'.repeat(5000)}"}`]) {
    assert.is(code(data), 'BAD_REQUEST', data.slice(0, 40))
  }
  assert.is(code('{"t":"hello","user":"a b"}'), 'INVALID_USER')
  assert.is(code('{"t":"hello","user":"__proto__"}'), null, 'a name is only ever a string value')
})

validate.run()

const limits = suite('token bucket')

limits('a burst, then one token per 1/rate seconds', () => {
  const b = new TokenBucket(3, 2, 1000)
  assert.equal([b.take(1000), b.take(1000), b.take(1000), b.take(1000)], [true, true, true, false])
  assert.is(b.waitMs(1000), 500)
  assert.is(b.take(1499), false)
  assert.is(b.take(1500), true)
  assert.is(b.take(100_000), true, 'refills after a long pause')
  assert.equal([b.take(100_000), b.take(100_000), b.take(100_000)], [true, true, false], 'but never beyond the burst')
})

limits('a clock that steps back gives nothing', () => {
  const b = new TokenBucket(1, 1, 10_000)
  assert.ok(b.take(10_000))
  assert.not.ok(b.take(5_000))
  assert.not.ok(b.take(10_500))
  assert.ok(b.take(11_000))
})

limits('per key, and bounded: the least recently used key is dropped', () => {
  const l = new KeyedLimiter(1, 1, 2)
  assert.ok(l.take('ann', 0))
  assert.not.ok(l.take('ann', 0))
  assert.ok(l.take('bob', 0), 'another user has a bucket of their own')
  assert.ok(l.take('cy', 0))
  assert.is(l.size, 2)
  assert.ok(l.take('ann', 0), 'ann was evicted (least recently used), so she starts full')
})

limits.run()

const history = suite('history state machine')

let index = 0
const meta = (timeMs = 1000): ApplyMeta => ({ index: ++index, term: 1, timeMs, clientId: 'c', seq: index })
const append = (m: HistoryMachine, room: string, text: string, cid = `c${index}`, user = 'ann', token = 1) => m.apply({ op: 'append', room, user, text, cid, token }, meta())

history('seq grows per room; only the last HISTORY_PER_ROOM lines are kept', () => {
  const m = new HistoryMachine()
  for (let i = 1; i <= HISTORY_PER_ROOM + 5; i++) assert.is(append(m, 'general', `line ${i}`).seq, i)
  assert.is(append(m, 'other', 'first').seq, 1)
  const lines = m.query({ op: 'history', room: 'general' }) as ChatMessage[]
  assert.is(lines.length, HISTORY_PER_ROOM)
  assert.is(lines[0]!.seq, 6)
  assert.is(lines.at(-1)!.text, `line ${HISTORY_PER_ROOM + 5}`)
  assert.equal(m.query({ op: 'rooms' }), [{ name: 'general', lastSeq: HISTORY_PER_ROOM + 5 }, { name: 'other', lastSeq: 1 }])
  assert.equal(m.query({ op: 'history', room: 'nobody-here' }), [])
})

history('a retried post (same user and cid) is stored once and answered with the first result', () => {
  const m = new HistoryMachine()
  const first = append(m, 'r', 'hello', 'cid-1', 'ann')
  const again = append(m, 'r', 'hello', 'cid-1', 'ann')
  assert.equal(again, first)
  assert.is(append(m, 'r', 'hello', 'cid-1', 'bob').seq, 2, 'another user with the same cid is another line')
  assert.is((m.query({ op: 'history', room: 'r' }) as ChatMessage[]).length, 2)
})

history('the line carries the log entry time, not a local clock', () => {
  const m = new HistoryMachine()
  assert.is(m.apply({ op: 'append', room: 'r', user: 'ann', text: 'x', cid: 'a', token: 1 }, meta(123_456)).timeMs, 123_456)
})

history('snapshot and restore give the same answers and the same next seq', () => {
  const m = new HistoryMachine()
  for (let i = 0; i < 7; i++) append(m, i % 2 ? 'a' : 'b', `t${i}`)
  const copy = new HistoryMachine()
  copy.restore(structuredClone(m.snapshot()))
  assert.equal(copy.query({ op: 'rooms' }), m.query({ op: 'rooms' }))
  assert.equal(copy.query({ op: 'history', room: 'a' }), m.query({ op: 'history', room: 'a' }))
  assert.is(append(copy, 'a', 'next').seq, append(m, 'a', 'next').seq)
  assert.throws(() => copy.restore({ v: 99 }), /unknown format/)
})

history('appends are fenced per room: a lower token than one the room took is refused, also after a restore', () => {
  const m = new HistoryMachine()
  append(m, 'r', 'old owner', 'c-1', 'ann', 5)
  append(m, 'r', 'new owner', 'c-2', 'ann', 9)
  assert.throws(() => append(m, 'r', 'stale write', 'c-3', 'ann', 5), /^FENCED/)
  assert.is(append(m, 'other', 'own fence per room', 'c-4', 'ann', 1).seq, 1)
  const copy = new HistoryMachine()
  copy.restore(structuredClone(m.snapshot()))
  assert.throws(() => append(copy, 'r', 'stale after restore', 'c-5', 'ann', 8), /^FENCED/)
  assert.is(append(copy, 'r', 'same owner again', 'c-6', 'ann', 9).seq, 3)
  assert.equal((m.query({ op: 'history', room: 'r' }) as ChatMessage[]).map((l) => l.text), ['old owner', 'new owner'])
})

history.run()
