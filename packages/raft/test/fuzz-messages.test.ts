import fc from 'fast-check'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Encoder } from 'cbor-x'
import { bootstrapState, messageProblem, RaftCore } from '../src/core.js'
import type { RaftMessage, Ready } from '../src/core.js'

// Hostile Raft messages from a peer: the core's step() validates what the
// network delivers (messageProblem) and drops what is malformed, so stepping
// any value, in any role, never throws, and the node's state stays sound.
//
//   FUZZ_SEED=<n> replays a run; FUZZ_RUNS=<n> scales the runs.

const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_260_515)
const RUNS_SCALE = Number(process.env.FUZZ_RUNS ?? 1)

async function fuzz(name: string, property: fc.IProperty<any>, numRuns = 300): Promise<void> {
  const details = await fc.check(property, { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(numRuns * RUNS_SCALE)) })
  if (!details.failed) return
  const cause = details.errorInstance as Error | undefined
  const replay = `FUZZ_SEED=${FUZZ_SEED}; replay with fc.assert(property, { seed: ${details.seed}, path: ${JSON.stringify(details.counterexamplePath)} })`
  throw new Error(`${name}: ${replay}\n${fc.defaultReportMessage(details) ?? ''}\nError: ${cause?.stack ?? String(cause)}`, { cause })
}

const test = suite('fuzz: raft messages')
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false })

function nested(depth: number): unknown {
  let v: unknown = 0
  for (let i = 0; i < depth; i++) v = [v]
  return v
}

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null, undefined, true, false, 0, -1, -0, 1.5, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 2 ** 64,
    '', '__proto__', 'constructor', new Uint8Array(0), [], {}, JSON.parse('{"__proto__": {"polluted": true}}'),
  ),
  fc.integer({ min: 1, max: 100 }).map(nested),
  fc.string({ maxLength: 16 }),
  fc.uint8Array({ maxLength: 32 }),
  fc.anything({ maxDepth: 2 }),
)

const peer = fc.constantFrom('b', 'c', 'a', 'z')
const small = fc.oneof(fc.nat({ max: 8 }), fc.nat({ max: 1_000 }), fc.constant(Number.MAX_SAFE_INTEGER))
const config = fc.record({ voters: fc.subarray(['a', 'b', 'c', 'z']), learners: fc.subarray(['d', 'a']) })
const entry = (index: number) =>
  fc.record({ index: fc.constant(index), term: small, kind: fc.constantFrom('normal', 'config'), data: fc.oneof(fc.uint8Array({ maxLength: 16 }), fc.constant(cbor.encode({ type: 'addVoter', node: 'z' }))) })

/** Well-formed messages of every type, addressed to node a, with small or extreme numbers. */
const validMessage: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(peer, small, small, small, small, fc.boolean(), fc.nat({ max: 3 }))
  .chain(([from, term, index, logTerm, commit, flag, n]) => {
    const base = { from, to: 'a', term }
    return fc.oneof(
      fc.constant({ ...base, type: flag ? 'vote' : 'preVote', logTerm, index, transfer: n === 0 }),
      fc.constant({ ...base, type: n % 2 ? 'voteResp' : 'preVoteResp', reject: flag }),
      fc.tuple(...Array.from({ length: n }, (_, i) => entry(index + 1 + i))).map((entries) => ({ ...base, type: 'app', logTerm, index, commit, entries })),
      fc.constant({ ...base, type: 'appResp', index, reject: flag, rejectHint: commit, logTerm }),
      fc.constant({ ...base, type: 'heartbeat', commit, readSeq: n }),
      fc.constant({ ...base, type: 'heartbeatResp', readSeq: n }),
      fc.tuple(config, fc.uint8Array({ maxLength: 32 })).map(([cfg, data]) => ({ ...base, type: 'snap', meta: { index, term: logTerm, config: cfg }, offset: commit, totalBytes: data.length + commit, data, done: flag })),
      fc.constant({ ...base, type: 'snapResp', index, offset: commit, reject: flag }),
      fc.constant({ ...base, type: 'timeoutNow' }),
      fc.constant({ ...base, type: 'readIndex', ctx: flag ? 'r' : new Uint8Array([n]) }),
      fc.constant({ ...base, type: 'readIndexResp', ctx: 'r', index }),
    )
  })

const keys = ['type', 'from', 'to', 'term', 'index', 'logTerm', 'commit', 'entries', 'reject', 'rejectHint', 'readSeq', 'meta', 'offset', 'totalBytes', 'data', 'done', 'ctx', 'transfer']

/** A valid message with fields removed, replaced by hostile values, or nested values broken. */
const mutatedMessage = fc
  .tuple(validMessage, fc.array(fc.tuple(fc.constantFrom(...keys), fc.option(hostileValue, { nil: Symbol.for('delete') as unknown })), { minLength: 1, maxLength: 3 }))
  .map(([m, edits]) => {
    const out: Record<string, unknown> = structuredClone(m)
    for (const [k, v] of edits) {
      if (v === Symbol.for('delete')) delete out[k]
      else if (k === 'meta' && typeof out.meta === 'object') (out.meta as Record<string, unknown>).config = v
      else if (k === 'entries' && Array.isArray(out.entries) && out.entries.length > 0) (out.entries as Record<string, unknown>[])[0]!.data = v
      else out[k] = v
    }
    return out
  })

/** What a peer's bytes decode to after a byte-level mutation of a valid encoding. */
const mutatedBytes = fc.tuple(validMessage, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 })).map(([m, flips]) => {
  const bytes = cbor.encode(m)
  for (const [at, b] of flips) bytes[at % bytes.length] = b
  try {
    return cbor.decode(bytes) as unknown
  } catch {
    return null
  }
})

const hostileMessage = fc.oneof(validMessage, mutatedMessage, mutatedBytes, hostileValue, fc.anything({ maxDepth: 3 }))

function drain(core: RaftCore): void {
  for (let i = 0; i < 100 && core.hasReady(); i++) {
    const rd: Ready = core.ready()
    core.advance(rd)
  }
}

/** Node a of {a, b, c} as follower, candidate or leader. */
function coreAs(role: 'follower' | 'candidate' | 'leader'): RaftCore {
  const core = new RaftCore({ id: 'a', random: () => 0, preVote: false }, bootstrapState({ voters: ['a', 'b', 'c'], learners: [] }))
  if (role !== 'follower') core.campaign()
  drain(core)
  if (role === 'leader') {
    core.step({ type: 'voteResp', from: 'b', to: 'a', term: core.status().term, reject: false })
    drain(core)
  }
  assert.is(core.status().role, role)
  return core
}

// Regressions found by the property below with FUZZ_SEED=20260515.
test('a heartbeat without its commit is dropped, not stepped (it threw InvariantError: commit NaN)', () => {
  const core = coreAs('follower')
  core.step({ from: 'c', to: 'a', term: 0, type: 'heartbeat', readSeq: 0 } as unknown as RaftMessage)
  drain(core)
  assert.is(core.status().commit, 1)
  assert.ok(messageProblem({ from: 'b', to: 'a', term: 1, type: 'appResp', index: 1, reject: false, logTerm: 1 }))
  assert.ok(messageProblem({ from: 'b', to: 'a', term: 1, type: 'snap', offset: 0, totalBytes: 1, data: new Uint8Array(1), done: true, meta: { index: 9, term: 1 } }))
})

test('a term near 2^53 is refused, so the next campaign stays a safe integer every peer accepts', () => {
  const core = coreAs('follower')
  core.step({ from: 'c', to: 'a', term: Number.MAX_SAFE_INTEGER, type: 'timeoutNow' })
  drain(core)
  core.campaign()
  drain(core)
  assert.ok(Number.isSafeInteger(core.status().term + 1) && core.status().term < 10, `term ${core.status().term}`)
})

for (const role of ['follower', 'candidate', 'leader'] as const) {
  test(`a ${role} steps any sequence of hostile messages without throwing; its state stays sound`, async () => {
    await fuzz(
      `raft ${role}`,
      fc.property(fc.array(hostileMessage, { minLength: 1, maxLength: 10 }), (msgs) => {
        const core = coreAs(role)
        for (const m of msgs) {
          const accepted = messageProblem(m) === null
          core.step(m as RaftMessage)
          drain(core)
          core.tick()
          drain(core)
          const s = core.status()
          assert.ok(Number.isSafeInteger(s.term) && s.term >= 0, `term ${s.term}`)
          assert.ok(Number.isSafeInteger(s.commit) && s.commit <= s.lastIndex, `commit ${s.commit} > last ${s.lastIndex} after ${accepted ? 'a valid' : 'a malformed'} message`)
          assert.is(({} as Record<string, unknown>).polluted, undefined)
        }
      }),
      300,
    )
  })
}

test.run()
