// Test helpers: terse builders for hand-made histories, and a brute-force
// linearizability oracle (tries every order) to cross-check the checker.
import type { ClientId, Operation } from '../src/history.js'
import type { Model } from '../src/linearizability/model.js'
import type { RegisterInput, RegisterOutput } from '../src/linearizability/register-model.js'
import type { Prng } from '../src/prng.js'

export type RegOp = Operation<RegisterInput<number>, RegisterOutput<number>>

export function ok<I, O>(clientId: ClientId, input: I, output: O, call: number, ret: number): Operation<I, O> {
  return { clientId, input, output, call, return: ret, outcome: 'ok' }
}

export function info<I, O>(clientId: ClientId, input: I, call: number): Operation<I, O> {
  return { clientId, input, output: undefined, call, return: Infinity, outcome: 'info' }
}

export const write = (c: ClientId, value: number, call: number, ret: number): RegOp =>
  ok(c, { op: 'write', value }, undefined, call, ret)
export const read = (c: ClientId, value: number | undefined, call: number, ret: number): RegOp =>
  ok(c, { op: 'read' }, value, call, ret)
export const cas = (c: ClientId, expected: number, value: number, swapped: boolean, call: number, ret: number): RegOp =>
  ok(c, { op: 'cas', expected, value }, swapped, call, ret)
export const writeInfo = (c: ClientId, value: number, call: number): RegOp => info(c, { op: 'write', value }, call)

/** Exhaustive search: every real-time-respecting order; info ops may be left out. */
export function bruteForceLinearizable<S, I, O>(model: Model<S, I, O>, ops: Operation<I, O>[]): boolean {
  const parts = model.partition?.(ops) ?? [ops]
  return parts.every((part) => bruteForcePart(model, part))
}

function bruteForcePart<S, I, O>(model: Model<S, I, O>, ops: Operation<I, O>[]): boolean {
  const placed = ops.map(() => false)
  const canGoNext = (i: number): boolean =>
    ops.every((other, j) => j === i || placed[j] || other.outcome === 'info' || !(other.return < ops[i]!.call))
  const search = (state: S): boolean => {
    if (ops.every((op, i) => placed[i] || op.outcome === 'info')) return true
    for (let i = 0; i < ops.length; i++) {
      if (placed[i] || !canGoNext(i)) continue
      const op = ops[i]!
      const unknown = op.outcome === 'info'
      const next = model.step(state, op.input, unknown ? undefined : op.output, unknown)
      if (!next.ok) continue
      placed[i] = true
      const found = search(next.state)
      placed[i] = false
      if (found) return true
    }
    return false
  }
  return search(model.init())
}

/**
 * A small register history from a real execution (each op takes effect at a
 * random instant inside its interval; some info ops never take effect), then
 * with probability `mutateP` one output is changed: a mix of linearizable and
 * not, with overlaps, ties and info ops.
 */
export function randomRegisterHistory(rng: Prng, maxOps: number, mutateP: number, infoP: number): RegOp[] {
  const n = rng.range(1, maxOps)
  const planned = Array.from({ length: n }, (_, i) => {
    const call = rng.range(0, 12)
    const ret = call + rng.range(0, 6)
    const infoOp = rng.chance(infoP)
    const applies = !infoOp || rng.chance(0.5)
    const at = call + rng.next() * (infoOp ? 10 : ret - call)
    const kind = rng.int(3)
    const input: RegisterInput<number> =
      kind === 0 ? { op: 'read' } : kind === 1 ? { op: 'write', value: rng.range(1, 3) } : { op: 'cas', expected: rng.range(0, 3), value: rng.range(1, 3) }
    return { i, call, ret, infoOp, applies, at, input, output: undefined as RegisterOutput<number> }
  })
  let value = 0
  for (const p of [...planned].filter((p) => p.applies).sort((a, b) => a.at - b.at)) {
    if (p.input.op === 'read') p.output = value
    else if (p.input.op === 'write') value = p.input.value
    else {
      p.output = value === p.input.expected
      if (p.output) value = p.input.value
    }
  }
  const ops = planned.map((p) =>
    p.infoOp ? info<RegisterInput<number>, RegisterOutput<number>>(p.i % 3, p.input, p.call) : ok(p.i % 3, p.input, p.output, p.call, p.ret),
  )
  if (rng.chance(mutateP)) {
    const target = ops[rng.int(n)]!
    if (target.outcome === 'ok' && target.input.op === 'read') target.output = rng.range(0, 3)
    if (target.outcome === 'ok' && target.input.op === 'cas') target.output = !target.output
  }
  return ops
}
