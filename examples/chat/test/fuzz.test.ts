// Property-based fuzzing of the only door for browser input
// (parseClientFrame) with fast-check: arbitrary text, arbitrary JSON,
// well-shaped frames with hostile field values, and prototype keys. The
// decoder never throws, answers every frame with a value or a coded error,
// and what it lets through satisfies the protocol's rules. Seeded:
// CHAT_FUZZ_SEED=n replays a run (fast-check prints the seed and path of a
// failure).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { CID_PATTERN, MAX_FRAME_BYTES, MAX_TEXT_CHARS, ROOM_PATTERN, USER_PATTERN } from '../src/limits.js'
import { ChatErrorCode } from '../src/protocol.js'
import { parseClientFrame } from '../src/validate.js'

const SEED = Number(process.env.CHAT_FUZZ_SEED ?? Date.now() % 2 ** 31)
const RUNS = 400
const CODES = new Set<string>(Object.values(ChatErrorCode))

function check(data: string): void {
  const r = parseClientFrame(data)
  if (!r.ok) {
    assert.ok(CODES.has(r.code), `unknown code ${r.code}`)
    assert.type(r.message, 'string')
    return
  }
  const f = r.value
  assert.ok(data.length <= MAX_FRAME_BYTES)
  assert.equal(Object.getPrototypeOf(f), Object.prototype)
  switch (f.t) {
    case 'hello':
      assert.ok(USER_PATTERN.test(f.user) && f.user === f.user.normalize('NFKC'), f.user)
      return
    case 'join':
    case 'leave':
    case 'typing':
      assert.ok(ROOM_PATTERN.test(f.room))
      return
    case 'post':
      assert.ok(ROOM_PATTERN.test(f.room) && CID_PATTERN.test(f.cid))
      assert.ok(f.text.length > 0 && [...f.text].length <= MAX_TEXT_CHARS && f.text === f.text.trim())
      return
    case 'rooms':
      return
    default:
      assert.unreachable(`unexpected frame ${JSON.stringify(f)}`)
  }
}

const hostileValue = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 600 }),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', '', ' ', '\u202E', '\uD800', 'ａｎｎ', '\u0430nn'),
  fc.integer(),
  fc.double(),
  fc.constantFrom(1e308, -0, Number.MAX_SAFE_INTEGER + 2, null, true),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
)
const frameShape = fc.record(
  {
    t: fc.constantFrom('hello', 'join', 'leave', 'post', 'typing', 'rooms', '__proto__', 'constructor'),
    user: hostileValue,
    room: fc.oneof(hostileValue, fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,31}$/)),
    text: hostileValue,
    cid: fc.oneof(hostileValue, fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/)),
  },
  { requiredKeys: ['t'] },
)

test(`parseClientFrame never throws and lets through only well-formed frames (seed ${SEED}, ${RUNS} runs per property)`, () => {
  const params = { seed: SEED, numRuns: RUNS }
  try {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: MAX_FRAME_BYTES + 100 }), check), params)
    fc.assert(fc.property(fc.json({ maxDepth: 4 }), check), params)
    fc.assert(fc.property(frameShape, (f) => check(JSON.stringify(f))), params)
    // Prototype keys spelled into the JSON text itself (JSON.stringify would drop them from a plain object).
    fc.assert(
      fc.property(frameShape, fc.constantFrom('__proto__', 'constructor', 'prototype'), hostileValue, (f, key, v) => {
        const text = JSON.stringify(f)
        check(`{${JSON.stringify(key)}:${JSON.stringify(v) ?? 'null'},${text.slice(1)}`)
        assert.is(({} as Record<string, unknown>).polluted, undefined)
      }),
      params,
    )
  } catch (err) {
    console.log(`  replay with CHAT_FUZZ_SEED=${SEED}`)
    throw err
  }
})

test.run()
