import fc from 'fast-check'
import { Encoder } from 'cbor-x'

/**
 * Shared pieces of the hostile-input suite (fuzz-*.test.ts): a fixed seed that
 * a failure prints so it replays, bounded run counts, and generators of
 * hostile bytes and values, both random and mutations of valid messages.
 *
 *   FUZZ_SEED=<n>  replays a run (default below); FUZZ_RUNS=<n> scales the runs.
 */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_260_515)
const RUNS_SCALE = Number(process.env.FUZZ_RUNS ?? 1)

/** Runs a property with the suite's seed; on failure the error names the seed and fast-check's replay path. */
export async function fuzz(name: string, property: fc.IProperty<any> | fc.IAsyncProperty<any>, numRuns = 300): Promise<void> {
  const details = await fc.check(property as fc.IAsyncProperty<any>, { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(numRuns * RUNS_SCALE)) })
  if (!details.failed) return
  const replay = `FUZZ_SEED=${FUZZ_SEED}; replay with fc.assert(property, { seed: ${details.seed}, path: ${JSON.stringify(details.counterexamplePath)} })`
  const cause = details.errorInstance as Error | undefined
  throw new Error(`${name}: ${replay}\n${fc.defaultReportMessage(details) ?? ''}\nError: ${cause?.message ?? String(cause)}`, { cause })
}

/** Plain CBOR, as the transport's peers write it. */
export const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false })

/** `depth` nested one-element CBOR arrays around a 0: deeper than any encoder would write. */
export function deepArrayBytes(depth: number): Uint8Array {
  const out = new Uint8Array(depth + 1).fill(0x81)
  out[depth] = 0x00
  return out
}

/** CBOR heads that announce far more than follows, indefinite items, odd tags and simple values. */
const hostileHeads: Uint8Array[] = [
  [0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // array of 2^64-1 items
  [0x9a, 0x7f, 0xff, 0xff, 0xff], // array of 2^31-1 items
  [0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // map of 2^64-1 pairs
  [0x5a, 0xff, 0xff, 0xff, 0xff], // byte string of 4 GiB
  [0x7a, 0x7f, 0xff, 0xff, 0xff], // text string of 2 GiB
  [0x9f], [0xbf], [0x5f], [0x7f], [0xff], // indefinite lengths, a lone break
  [0xd9, 0x9c, 0xa4], // tag 40100 (actor ref) with whatever follows
  [0xd8, 0x1c], [0xd8, 0x1d], // shared-value tags
  [0xd9, 0xd9, 0xf7], // self-describe tag
  [0xc2, 0x49], // bignum
  [0xf9, 0x7e, 0x00], [0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], // NaN
  [0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // 2^64-1
  [0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // -2^64
  [0xf7], [0xf6], [0xf5], [0xf8, 0xff], // undefined, null, true, simple(255)
].map((b) => Uint8Array.from(b))

type Edit =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; byte: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; count: number }
  | { op: 'truncate'; at: number }
  | { op: 'duplicate'; at: number; count: number }

const position = fc.nat({ max: 1 << 16 })
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: position, byte: fc.nat({ max: 255 }) }),
  fc.record({ op: fc.constant('insert' as const), at: position, bytes: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.constantFrom(...hostileHeads)) }),
  fc.record({ op: fc.constant('delete' as const), at: position, count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: position }),
  fc.record({ op: fc.constant('duplicate' as const), at: position, count: fc.integer({ min: 1, max: 64 }) }),
)

function apply(bytes: Uint8Array, e: Edit): Uint8Array {
  const n = bytes.length
  const at = n === 0 ? 0 : e.at % (n + (e.op === 'insert' ? 1 : 0))
  switch (e.op) {
    case 'flip': {
      if (n === 0) return bytes
      const out = bytes.slice()
      out[at] ^= 1 << e.bit
      return out
    }
    case 'set': {
      if (n === 0) return bytes
      const out = bytes.slice()
      out[at] = e.byte
      return out
    }
    case 'insert':
      return concat(bytes.subarray(0, at), e.bytes, bytes.subarray(at))
    case 'delete':
      return concat(bytes.subarray(0, at), bytes.subarray(at + e.count))
    case 'truncate':
      return bytes.subarray(0, at)
    case 'duplicate':
      return concat(bytes.subarray(0, at), bytes.subarray(at, at + e.count), bytes.subarray(at))
  }
}

/** The bytes of `parts`, one after another. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** Valid encodings from `valid`, each with 1 to 6 byte edits (flip, set, insert hostile heads, delete, truncate, duplicate). */
export function mutatedBytes(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 6 })).map(([bytes, edits]) => edits.reduce(apply, bytes))
}

/** Fully random bytes, random bytes behind a hostile CBOR head, and deep nesting. */
export const randomBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 512 }) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...hostileHeads), fc.uint8Array({ maxLength: 64 })).map(([h, t]) => concat(h, t)) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 20_000 }).map(deepArrayBytes) },
)

/** An object whose own key is `__proto__` (what JSON.parse or a peer's CBOR map makes, not a prototype change). */
export const protoObject = (inner: unknown): unknown => {
  const o = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}') as Record<string, unknown>
  o.inner = inner
  return o
}

function nested(depth: number): unknown {
  let v: unknown = 0
  for (let i = 0; i < depth; i++) v = [v]
  return v
}

/** Values that break assumptions: wrong types, huge and negative numbers, NaN, deep nesting, prototype keys, big strings. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null, undefined, true, false, 0, -1, -0, 1.5, NaN, Infinity, -Infinity,
    Number.MAX_SAFE_INTEGER + 2, -Number.MAX_SAFE_INTEGER - 2, 2 ** 64, 2n ** 70n, -(2n ** 70n),
    '', '__proto__', 'constructor', 'toString', new Uint8Array(0), [], {}, new Map([[1, 2]]),
  ),
  fc.integer({ min: 1, max: 200 }).map(nested),
  fc.string({ maxLength: 64 }),
  fc.integer({ min: 1_000, max: 200_000 }).map((n) => 'x'.repeat(n)),
  fc.uint8Array({ maxLength: 64 }),
  fc.anything({ maxDepth: 3 }),
  fc.anything({ maxDepth: 2 }).map(protoObject),
)

/** `valid` (an array message) with some fields replaced by hostile values, or cut short, or extended. */
export function mutatedFields(valid: fc.Arbitrary<unknown[]>): fc.Arbitrary<unknown[]> {
  return fc
    .tuple(valid, fc.array(fc.tuple(fc.nat(), hostileValue), { minLength: 1, maxLength: 3 }), fc.constantFrom('replace', 'cut', 'extend'))
    .map(([fields, replacements, how]) => {
      const out = fields.slice()
      for (const [i, v] of replacements) out[i % out.length] = v
      if (how === 'cut') return out.slice(0, replacements[0]![0] % out.length)
      if (how === 'extend') return [...out, ...replacements.map(([, v]) => v)]
      return out
    })
}

/** Heap in use after a collection when the process runs with --expose-gc (else as it is). */
export function heapUsedBytes(): number {
  ;(globalThis as { gc?: () => void }).gc?.()
  return process.memoryUsage().heapUsed
}
